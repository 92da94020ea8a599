// The coach's review page: synced audio, "start here" (the suggested
// moments: play, accept, dismiss), tag chips with accept / reject /
// change code / choose for the reflection sheet, tags on selected words,
// notes, corrections of who says what, a code filter, keyboard shortcuts.
// Hand-written, no framework.
(() => {
  "use strict";
  const root = document.getElementById("session");
  if (!root) return;
  const id = root.dataset.id;
  const csrf = root.dataset.csrf;
  const canReview = root.dataset.canReview === "true";
  let version = Number(root.dataset.version);
  let tags = JSON.parse(document.getElementById("tags-data").textContent || "[]") || [];
  const codes = JSON.parse(document.getElementById("codes-data").textContent || "[]") || [];
  const codeInfo = Object.fromEntries(codes.map((c) => [c.id, c]));
  const audio = document.getElementById("audio");
  const status = document.getElementById("status");
  const turns = Array.from(document.querySelectorAll(".turn"));
  let selected = null; // key of the focused tag

  const label = (code) => (codeInfo[code] && codeInfo[code].label) || code.replace(/_/g, " ");
  const polarity = (code) => (codeInfo[code] && codeInfo[code].polarity) || "neutral";
  const el = (tag, attrs = {}, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") e.className = v;
      else if (k.startsWith("data-") || k.startsWith("aria-") || k === "type" || k === "title" || k === "value" || k === "tabindex") e.setAttribute(k, v);
      else e[k] = v;
    }
    for (const kid of kids) e.append(kid);
    return e;
  };
  const say = (msg, isError) => {
    status.textContent = msg;
    status.className = isError ? "error" : "";
  };

  // --- audio --------------------------------------------------------------
  const seek = (secs) => {
    if (!audio) return;
    audio.currentTime = Number(secs);
    const p = audio.play();
    if (p && p.catch) p.catch(() => {});
  };
  document.addEventListener("click", (ev) => {
    const t = ev.target.closest("[data-seek]");
    if (t) { ev.preventDefault(); seek(t.dataset.seek); }
  });
  const follow = document.getElementById("follow");
  let current = null;
  audio && audio.addEventListener("timeupdate", () => {
    const now = audio.currentTime;
    let found = null;
    for (const t of turns) {
      if (Number(t.dataset.start) <= now + 0.05 && now < Number(t.dataset.end) + 0.05) { found = t; }
    }
    if (found === current) return;
    if (current) current.classList.remove("current");
    current = found;
    if (current) {
      current.classList.add("current");
      if (follow && follow.checked) current.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  });

  // --- tags -----------------------------------------------------------------
  const textOf = (seg) => document.querySelector(`#t${seg} .text`).dataset.text;
  // Byte offsets (UTF-8, as the server counts) to string indices.
  const enc = new TextEncoder();
  const byteToIndex = (text, byte) => {
    let bytes = 0;
    let i = 0;
    for (const ch of text) {
      if (bytes >= byte) break;
      bytes += enc.encode(ch).length;
      i += ch.length;
    }
    return i;
  };
  const indexToByte = (text, index) => enc.encode(text.slice(0, index)).length;

  const renderText = (seg) => {
    const p = document.querySelector(`#t${seg} .text`);
    const text = p.dataset.text;
    const marks = new Array(text.length).fill(false);
    for (const t of tags) {
      if (t.segment !== seg || t.review === "rejected") continue;
      const a = byteToIndex(text, t.start), b = byteToIndex(text, t.end);
      for (let i = a; i < b; i++) marks[i] = true;
    }
    p.textContent = "";
    let i = 0;
    while (i < text.length) {
      let j = i + 1;
      while (j < text.length && marks[j] === marks[i]) j++;
      const part = text.slice(i, j);
      p.append(marks[i] ? el("mark", {}, part) : part);
      i = j;
    }
  };

  const chip = (t) => {
    const cls = ["chip", polarity(t.code), "review-" + t.review, "source-" + t.source];
    if (t.moment) cls.push("moment");
    if (t.key === selected) cls.push("selected");
    const c = el("span", { class: cls.join(" "), "data-key": t.key, "data-code": t.code, tabindex: "0",
      title: `${t.review}${t.orig_code ? ", machine said " + label(t.orig_code) : ""}: “${t.evidence}”` });
    c.append(el("button", { type: "button", class: "label", "data-seek": document.querySelector(`#t${t.segment}`).dataset.start,
      "aria-label": `${label(t.code)} (${t.review}), play from here` }, label(t.code)));
    if (canReview) {
      c.append(
        el("button", { type: "button", "data-act": "accept", "aria-label": "Accept", title: "Accept (a)" }, "✓"),
        el("button", { type: "button", "data-act": "reject", "aria-label": "Reject", title: "Reject (r)" }, "✗"),
        el("button", { type: "button", "data-act": "moment", "aria-pressed": String(!!t.moment), "aria-label": "Choose for the reflection sheet", title: "Reflection sheet (m)" }, "★"),
      );
      const sel = el("select", { "data-act": "recode", "aria-label": "Change the code" });
      for (const c2 of codes) {
        const o = el("option", { value: c2.id }, c2.label);
        if (c2.id === t.code) o.selected = true;
        sel.append(o);
      }
      c.append(sel);
      if (t.source === "coach") c.append(el("button", { type: "button", "data-act": "remove", "aria-label": "Remove this tag", title: "Remove this tag" }, "Remove"));
    }
    return c;
  };

  const filterSel = document.getElementById("code-filter");
  const applyFilter = () => {
    const code = filterSel ? filterSel.value : "";
    for (const t of turns) {
      const seg = Number(t.dataset.index);
      t.classList.toggle("hidden", !!code && !tags.some((x) => x.segment === seg && x.code === code));
    }
    for (const tick of document.querySelectorAll(".timeline .tick")) tick.classList.toggle("hidden", !!code && tick.dataset.code !== code);
  };
  filterSel && filterSel.addEventListener("change", applyFilter);

  const render = () => {
    // The chips are made anew: keep the keyboard focus on the same chip (or
    // the same button of it), so that a keyboard user does not lose their place.
    const active = document.activeElement;
    const activeChip = active && active.closest && active.closest(".chip[data-key]");
    const focusKey = activeChip && activeChip.dataset.key;
    const focusAct = focusKey && active !== activeChip ? active.dataset.act : null;
    for (const box of document.querySelectorAll(".tags")) {
      const seg = Number(box.dataset.segment);
      box.replaceChildren(...tags.filter((t) => t.segment === seg).map(chip));
    }
    for (const t of turns) renderText(Number(t.dataset.index));
    applyFilter();
    if (focusKey) {
      const c = Array.from(document.querySelectorAll(".chip[data-key]")).find((x) => x.dataset.key === focusKey);
      const target = c && ((focusAct && c.querySelector(`[data-act="${focusAct}"]`)) || c);
      if (target) target.focus({ preventScroll: true });
    }
  };
  // The progress counts the tags as the page now has them, as the server does.
  const setProgress = () => {
    const total = tags.length;
    const reviewed = tags.filter((t) => t.review !== "pending").length;
    const bar = document.getElementById("progress");
    bar.max = total; bar.value = reviewed;
    document.getElementById("progress-text").textContent = `${reviewed} of ${total} reviewed`;
  };

  const renderNotes = (review) => {
    for (const list of document.querySelectorAll("ul.notes")) list.replaceChildren();
    for (const n of review.notes || []) {
      const list = document.getElementById("notes-" + n.segment);
      if (!list) continue;
      const li = el("li", { "data-note": n.id }, el("span", { class: "note-text" }, n.text), " ", el("small", {}, n.by));
      if (n.moment) li.className = "moment";
      list.append(li);
    }
  };

  // send posts one change; the page's version goes with it, and a change on
  // a stale view is refused by the server.
  const send = async (change) => {
    change.version = version;
    let resp;
    try {
      resp = await fetch(`/api/recordings/${id}/review`, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(change),
      });
    } catch (e) {
      say("Could not reach the server: your change was not saved. Check the connection and try again.", true);
      return false;
    }
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok) {
      say(body.message || `The change was refused (${resp.status}).`, true);
      if (resp.status === 409) {
        const b = el("button", { type: "button" }, "Reload now");
        b.addEventListener("click", () => location.reload());
        status.append(" ", b);
      }
      return false;
    }
    version = body.version;
    tags = body.tags || [];
    render();
    renderNotes(body.review || {});
    renderSuggestions(body.review || {});
    setProgress();
    say(body.warning || "Saved.", !!body.warning);
    return true;
  };

  document.addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-act]");
    if (!b) return;
    const key = b.closest(".chip").dataset.key;
    selected = key;
    const t = tags.find((x) => x.key === key);
    if (b.dataset.act === "moment") send({ action: "moment", key, moment: !(t && t.moment) });
    else send({ action: b.dataset.act, key });
  });
  document.addEventListener("change", (ev) => {
    const s = ev.target.closest("select[data-act=recode]");
    if (s) send({ action: "recode", key: s.closest(".chip").dataset.key, code: s.value });
    // A coach sets a speaker's role: every turn of theirs changes, and the
    // session is tagged again, so the page reloads to show it.
    const r = ev.target.closest("select.speaker-role");
    if (r) send({ action: "speaker-role", speaker: r.dataset.speaker, role: r.value }).then((ok) => { if (ok) setTimeout(() => location.reload(), 1500); });
  });
  document.addEventListener("submit", (ev) => {
    const f = ev.target.closest("form.speaker-name");
    if (!f) return;
    ev.preventDefault();
    const name = f.querySelector("input").value.trim();
    if (name) send({ action: "speaker-name", speaker: f.dataset.speaker, text: name }).then((ok) => { if (ok) setTimeout(() => location.reload(), 1500); });
  });
  document.addEventListener("focusin", (ev) => {
    const c = ev.target.closest(".chip[data-key]");
    if (!c) return;
    selected = c.dataset.key;
    for (const x of document.querySelectorAll(".chip[data-key]")) x.classList.toggle("selected", x === c);
  });

  // --- start here: the suggested moments ----------------------------------------
  // Each moment is a window of turns: playing it plays from its start,
  // marks its turns and brings the first into view. A coach answers it:
  // accepted (onto the reflection sheet), dismissed, or taken back.
  const suggestions = () => Array.from(document.querySelectorAll(".suggestion[data-key]"));
  const stateText = { accepted: "Accepted: on the reflection sheet", dismissed: "Dismissed" };
  const setSuggestionState = (li, state) => {
    const had = li.contains(document.activeElement);
    li.dataset.state = state;
    li.classList.toggle("state-accepted", state === "accepted");
    li.classList.toggle("state-dismissed", state === "dismissed");
    li.querySelector(".suggestion-state").textContent = stateText[state] || "";
    for (const b of li.querySelectorAll("button[data-answer]")) {
      if (b.dataset.answer === "") b.hidden = !state;
      else b.setAttribute("aria-pressed", String(b.dataset.answer === state));
    }
    // An Undo that hides takes the focus with it: keep it on the moment.
    if (had && !li.contains(document.activeElement)) li.focus();
  };
  const renderSuggestions = (review) => {
    const answers = Object.fromEntries((review.suggestions || []).map((d) => [d.key, d.state]));
    for (const li of suggestions()) setSuggestionState(li, answers[li.dataset.key] || "");
  };
  const playMoment = (li) => {
    const segs = li.dataset.segments.split(" ").map(Number);
    const inMoment = (t) => segs.includes(Number(t.dataset.index));
    // A code filter must not hide the moment's turns.
    if (filterSel && filterSel.value && turns.some((t) => inMoment(t) && t.classList.contains("hidden"))) {
      filterSel.value = "";
      applyFilter();
    }
    for (const t of turns) t.classList.toggle("in-moment", inMoment(t));
    for (const x of suggestions()) x.classList.toggle("playing", x === li);
    const first = turns.find(inMoment);
    if (first) first.scrollIntoView({ block: "start" });
    seek(li.dataset.start);
  };
  const answer = (li, state) => {
    if (canReview && li) send({ action: "suggestion", key: li.dataset.key, state });
  };
  document.addEventListener("click", (ev) => {
    const li = ev.target.closest(".suggestion[data-key]");
    if (!li) return;
    const b = ev.target.closest("button[data-answer]");
    if (b) answer(li, b.dataset.answer);
    else if (ev.target.closest(".suggestion-play")) playMoment(li);
  });
  // s / S: the next or previous moment, in the page's order.
  const stepMoment = (delta) => {
    const all = suggestions();
    if (!all.length) return;
    const at = all.findIndex((x) => x.contains(document.activeElement) || x.classList.contains("playing"));
    const i = at < 0 ? (delta > 0 ? 0 : all.length - 1) : (at + delta + all.length) % all.length;
    all[i].focus({ preventScroll: true });
    playMoment(all[i]);
  };

  // --- tagging a selection ---------------------------------------------------
  const addBox = document.getElementById("add-tag");
  let pending = null;
  const selectionInTurn = () => {
    const sel = window.getSelection();
    if (!sel || sel.isCollapsed || sel.rangeCount === 0) return null;
    const range = sel.getRangeAt(0);
    // A container is a text node inside the turn's text, or an element
    // (the text itself, or a highlight) when whole nodes are selected.
    const within = (n) => { const e = n.nodeType === Node.ELEMENT_NODE ? n : n.parentElement; return e && e.closest(".text"); };
    const p = within(range.startContainer);
    const p2 = within(range.endContainer);
    if (!p || p !== p2) return null;
    const pre = document.createRange();
    pre.selectNodeContents(p);
    pre.setEnd(range.startContainer, range.startOffset);
    const start = pre.toString().length;
    const end = start + range.toString().length;
    const text = p.dataset.text;
    return { segment: Number(p.closest(".turn").dataset.index), start: indexToByte(text, start), end: indexToByte(text, end) };
  };
  const offerAdd = () => {
    if (!canReview || !addBox) return;
    pending = selectionInTurn();
    addBox.hidden = !pending;
    if (pending) document.getElementById("add-code").focus();
  };
  document.addEventListener("mouseup", (ev) => { if (ev.target.closest(".text")) setTimeout(offerAdd, 0); });
  addBox && document.getElementById("add-confirm").addEventListener("click", async () => {
    if (!pending) return;
    if (await send({ action: "add", code: document.getElementById("add-code").value, ...pending })) {
      addBox.hidden = true; pending = null; window.getSelection().removeAllRanges();
    }
  });
  addBox && document.getElementById("add-cancel").addEventListener("click", () => { addBox.hidden = true; pending = null; });

  // --- notes -------------------------------------------------------------------
  document.addEventListener("submit", async (ev) => {
    const f = ev.target.closest(".note-form");
    if (!f) return;
    ev.preventDefault();
    const ta = f.querySelector("textarea");
    const moment = f.querySelector(".note-moment");
    const ok = await send({ action: "note", segment: Number(f.dataset.segment), text: ta.value, moment: moment.checked });
    // The next note starts empty and off the reflection sheet: a tick left
    // from the last note must not put a private note on it.
    if (ok) { ta.value = ""; moment.checked = false; if (f.id === "note-dialog") f.hidden = true; }
  });
  const noteDialog = document.getElementById("note-dialog");
  const openNote = (seg) => {
    if (!noteDialog) return;
    noteDialog.dataset.segment = String(seg);
    noteDialog.hidden = false;
    noteDialog.querySelector("textarea").focus();
  };
  noteDialog && document.getElementById("note-cancel").addEventListener("click", () => { noteDialog.hidden = true; });

  // --- correcting a turn: who says it, its words, merging ----------------------------
  // Turn corrections change the transcript itself: once one is saved the
  // page reloads to show it (and the session is tagged again).
  const turnBox = document.getElementById("turn-dialog");
  let turnAt = null; // { segment, word } of the open box: word is a byte offset, 0 for the whole turn
  const reloadSoon = (ok) => { if (ok) setTimeout(() => location.reload(), 1500); };
  // The turn, and where in its text, of the selection or the caret a click leaves.
  const caretInTurn = () => {
    const sel = window.getSelection();
    if (!sel || sel.rangeCount === 0) return null;
    const range = sel.getRangeAt(0);
    const n = range.startContainer;
    const e = n.nodeType === Node.ELEMENT_NODE ? n : n.parentElement;
    const p = e && e.closest(".text");
    if (!p) return null;
    const pre = document.createRange();
    pre.selectNodeContents(p);
    pre.setEnd(range.startContainer, range.startOffset);
    return { segment: Number(p.closest(".turn").dataset.index), index: pre.toString().length };
  };
  // The turn the keys act on: where the coach clicked, else the chosen
  // tag's, else the one playing.
  const keyTurn = () => {
    const c = caretInTurn();
    if (c) return c;
    const t = tags.find((x) => x.key === selected);
    if (t) return { segment: t.segment, index: 0 };
    if (current) return { segment: Number(current.dataset.index), index: 0 };
    return null;
  };
  const openTurn = (at, focus) => {
    if (!turnBox || !canReview || !at) return;
    const li = document.getElementById("t" + at.segment);
    const text = li.querySelector(".text").dataset.text;
    let i = Math.min(at.index, text.length);
    while (i > 0 && !/\s/.test(text[i - 1])) i--; // back to the start of the word
    const whole = text.slice(0, i).trim() === "";
    turnAt = { segment: at.segment, word: whole ? 0 : indexToByte(text, i) };
    document.getElementById("turn-at").textContent = li.querySelector(".time").textContent;
    const from = document.getElementById("turn-part-from");
    from.hidden = whole;
    document.getElementById("turn-word").textContent = whole ? "" : text.slice(i).split(/\s+/).slice(0, 3).join(" ") + "…";
    turnBox.querySelector(`input[name="turn-part"][value="${whole ? "whole" : "from"}"]`).checked = true;
    const speaker = li.querySelector(".speaker").firstChild.textContent.trim();
    const sel = document.getElementById("turn-speaker");
    const other = Array.from(sel.options).find((o) => o.value && o.value !== speaker);
    sel.value = other ? other.value : "";
    document.getElementById("turn-new").hidden = sel.value !== "";
    document.getElementById("turn-text").value = text;
    document.getElementById("turn-merge").disabled = !li.nextElementSibling;
    turnBox.hidden = false;
    (focus === "text" ? document.getElementById("turn-text") : sel).focus();
  };
  const closeTurn = () => { if (turnBox) turnBox.hidden = true; turnAt = null; };
  const merge = (segment) => send({ action: "turn-merge", segment }).then(reloadSoon);
  document.addEventListener("click", (ev) => {
    const b = ev.target.closest("button.turn-edit");
    if (!b) return;
    const c = caretInTurn();
    openTurn(c && c.segment === Number(b.dataset.turn) ? c : { segment: Number(b.dataset.turn), index: 0 });
  });
  if (turnBox) {
    const sel = document.getElementById("turn-speaker");
    sel.addEventListener("change", () => {
      document.getElementById("turn-new").hidden = sel.value !== "";
      if (!sel.value) document.getElementById("turn-new-name").focus();
    });
    document.getElementById("turn-move").addEventListener("click", () => {
      if (!turnAt) return;
      const part = turnBox.querySelector('input[name="turn-part"]:checked').value;
      const change = { action: "turn-speaker", segment: turnAt.segment, start: part === "from" ? turnAt.word : 0, speaker: sel.value };
      if (!sel.value) {
        change.speaker = document.getElementById("turn-new-name").value.trim();
        change.role = document.getElementById("turn-new-role").value;
        if (!change.speaker) { say("Give the new speaker a name.", true); return; }
      }
      send(change).then(reloadSoon);
    });
    document.getElementById("turn-save-text").addEventListener("click", () => {
      if (turnAt) send({ action: "turn-text", segment: turnAt.segment, text: document.getElementById("turn-text").value }).then(reloadSoon);
    });
    document.getElementById("turn-merge").addEventListener("click", () => { if (turnAt) merge(turnAt.segment); });
    document.getElementById("turn-cancel").addEventListener("click", closeTurn);
    turnBox.addEventListener("keydown", (ev) => { if (ev.key === "Escape") { ev.preventDefault(); closeTurn(); } });
  }

  // --- review state and help -----------------------------------------------------
  const complete = document.getElementById("complete");
  complete && complete.addEventListener("click", async () => {
    const done = complete.dataset.state === "complete";
    if (await send({ action: "state", state: done ? "in_progress" : "complete" })) {
      complete.dataset.state = done ? "in_progress" : "complete";
      complete.textContent = done ? "Mark review complete" : "Review complete ✓";
    }
  });
  const help = document.getElementById("help");
  document.getElementById("help-button").addEventListener("click", () => help.showModal());

  // --- keyboard ------------------------------------------------------------------
  const visibleChips = () => Array.from(document.querySelectorAll(".turn:not(.hidden) .chip[data-key]"));
  const focusChip = (delta) => {
    const chips = visibleChips();
    if (!chips.length) return;
    let i = chips.findIndex((c) => c.dataset.key === selected);
    i = i < 0 ? (delta > 0 ? 0 : chips.length - 1) : Math.min(chips.length - 1, Math.max(0, i + delta));
    selected = chips[i].dataset.key;
    for (const c of chips) c.classList.toggle("selected", c === chips[i]);
    chips[i].focus();
    chips[i].scrollIntoView({ block: "nearest" });
  };
  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.target.closest("input, textarea, select, dialog, .floating")) return;
    // On a suggested moment (or one of its buttons), a, d, u and p answer
    // or play it rather than the chosen tag.
    const sm = ev.target.closest(".suggestion[data-key]");
    if (sm && ["a", "d", "u", "p"].includes(ev.key)) {
      if (ev.key === "p") playMoment(sm);
      else if (!canReview) return;
      else answer(sm, { a: "accepted", d: "dismissed", u: "" }[ev.key]);
      ev.preventDefault();
      return;
    }
    const t = tags.find((x) => x.key === selected);
    switch (ev.key) {
      case "j": focusChip(1); break;
      case "k": focusChip(-1); break;
      case "a": if (t && canReview) send({ action: "accept", key: t.key }); break;
      case "r": if (t && canReview) send({ action: "reject", key: t.key }); break;
      case "u": if (t && canReview && t.source !== "coach") send({ action: "reset", key: t.key }); break;
      case "m": if (t && canReview) send({ action: "moment", key: t.key, moment: !t.moment }); break;
      case "p": if (t) seek(document.querySelector(`#t${t.segment}`).dataset.start); break;
      case "n": if (t && canReview) openNote(t.segment); else return; break;
      case "t": offerAdd(); break;
      case "e": if (canReview) openTurn(keyTurn()); else return; break;
      case "w": if (canReview) openTurn(keyTurn(), "text"); else return; break;
      case "s": stepMoment(1); break;
      case "S": stepMoment(-1); break;
      case "+": { const k = canReview && keyTurn(); if (k && document.getElementById("t" + k.segment).nextElementSibling) merge(k.segment); else return; break; }
      case " ": if (audio) { audio.paused ? audio.play() : audio.pause(); } break;
      case "?": help.showModal(); break;
      default: return;
    }
    ev.preventDefault();
  });

  render();
})();
