// The session page of a recording still being worked on: its progress
// follows the work without a reload, and the page loads again when the
// work is done (or has failed), to show the transcript and tags.
(() => {
  "use strict";
  const box = document.getElementById("work");
  if (!box) return;
  const id = document.getElementById("session").dataset.id;
  const rough = (s) => s < 60 ? `${Math.round(s)} s` : s < 3600 ? `${Math.round(s / 60)} min` : `${Math.floor(s / 3600)} h ${Math.floor(s / 60) % 60} min`;
  const tick = async () => {
    let rec;
    try {
      const resp = await fetch("/api/recordings/" + encodeURIComponent(id), { credentials: "same-origin" });
      if (!resp.ok) return;
      rec = (await resp.json()).recording;
    } catch (e) { return; }
    if (!rec) return;
    if (rec.status !== box.dataset.status && ["ready", "failed", "transcribed"].includes(rec.status)) { location.reload(); return; }
    box.dataset.status = rec.status;
    box.querySelector(".work-stage").textContent = rec.status;
    const p = rec.progress;
    if (!p || rec.status !== "transcribing") return;
    const f = Math.min(1, p.total_seconds > 0 ? p.seconds / p.total_seconds : (p.total ? p.done / p.total : 0));
    box.querySelector("progress").value = f;
    let text = `${p.done} of ${p.total} chunks (${Math.round(100 * f)}%)`;
    const elapsed = (Date.now() - Date.parse(p.started)) / 1000;
    if (f > 0 && f < 1 && elapsed > 0) text += `, about ${rough(elapsed * (1 - f) / f)} left`;
    box.querySelector(".work-text").textContent = text;
  };
  setInterval(tick, 3000);
})();
