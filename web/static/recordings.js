// The recordings list: the progress of recordings being worked on follows
// the work without a reload; when one finishes, the list is loaded again.
(() => {
  "use strict";
  const working = () => Array.from(document.querySelectorAll('td[data-status="transcribing"], td[data-status="annotating"], td[data-status="uploaded"]'));
  if (!working().length) return;
  const tick = async () => {
    let body;
    try {
      const resp = await fetch("/api/recordings" + location.search, { credentials: "same-origin" });
      if (!resp.ok) return;
      body = await resp.json();
    } catch (e) { return; }
    const byID = Object.fromEntries((body.recordings || []).map((r) => [r.id, r]));
    for (const td of working()) {
      const r = byID[td.dataset.recording];
      if (!r) continue;
      if (r.status !== td.dataset.status && (r.status === "ready" || r.status === "failed" || r.status === "transcribed")) { location.reload(); return; }
      if (!r.progress) continue;
      let box = td.querySelector(".work");
      if (!box) {
        box = document.createElement("div");
        box.className = "work";
        box.innerHTML = '<progress max="1" aria-label="transcription progress"></progress> <span class="work-text"></span>';
        td.append(box);
      }
      const done = r.progress.total_seconds > 0 ? r.progress.seconds / r.progress.total_seconds : (r.progress.total ? r.progress.done / r.progress.total : 0);
      box.querySelector("progress").value = Math.min(1, done);
      box.querySelector(".work-text").textContent = r.progress_text || "";
    }
  };
  setInterval(tick, 3000);
})();
