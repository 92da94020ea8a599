package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/harkworks/hark"
)

// mergedTurnsMeeting is the authoritarian testdata meeting with the
// worker's threat ("If you don't comply with the plan, …") heard as the end
// of the parent's turn before it, as a diarizer can: the parent's turn gets
// no worker codes, so the threat is missed.
func mergedTurnsMeeting(t *testing.T) string {
	return editedMeeting(t, func(vtt string) string {
		return strings.Replace(vtt, "<v Parent>So what happens if I can't?\n\n00:00:42.865 --> 00:00:48.497\n<v Worker>", "<v Parent>So what happens if I can't? ", 1)
	})
}

// A coach corrects turns on the review page in Chromium, by mouse and by
// keyboard: clicks the first word of the worker's threat inside the
// parent's turn and gives the words from there on to the worker (the
// threat is tagged on the worker's new turn once the session is tagged
// again), edits a turn's words, and merges two turns with "+".
func TestBrowserTurnCorrections(t *testing.T) {
	exe := chromiumPath(t)
	b := startUp(t, t.TempDir())
	batch, err := b.upload(uploadMeta{Team: "North"}, "", mergedTurnsMeeting(t))
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	b.waitBatch(batch, 1)
	sess := b.session("North/visit.wav")
	pageURL := b.up.Endpoints.HTTP + "/recordings/" + sess.Recording.ID
	turns := len(sess.Transcript.Segments)

	ctx := startBrowser(t, exe)
	c := newTab(t, "coach", ctx)
	defer c.checkConsole()
	c.signIn(b.signInLink("sam", "Sam Patel", hark.RoleCoach, "North"))
	c.do("open the session page", chromedp.Navigate(pageURL))
	threatTurn := `[...document.querySelectorAll(".turn")].find((li) => li.querySelector(".text").dataset.text.startsWith("If you don't comply"))`
	c.wait("the joined turn, the threat in it untagged", `(() => {
		const li = [...document.querySelectorAll(".turn")].find((li) => li.querySelector(".text").dataset.text.includes("if I can't? If you don't comply"));
		return li && li.classList.contains("role-parent") && !li.querySelector('.chip[data-code="threat_of_escalation"]');
	})()`)
	reloadUntil := func(what, expr string) {
		t.Helper()
		time.Sleep(1800 * time.Millisecond) // the page reloads itself after a correction
		for i := 0; ; i++ {
			c.do("reload", chromedp.Navigate(pageURL))
			if evalJS[bool](c, expr) {
				return
			}
			if i == 50 {
				t.Fatalf("%s: not on the page\npage: %s", what, c.state())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	// Click on "If" (the mouse leaves the caret there), press e, give the
	// words from there on to the worker.
	c.do("click the first word of the threat", chromedp.Evaluate[chromedp.Void](`(() => {
		const p = [...document.querySelectorAll(".turn .text")].find((p) => p.dataset.text.includes("If you don't comply"));
		p.scrollIntoView({block: "center"});
	})()`))
	xy := evalJS[[]float64](c, `(() => {
		const p = [...document.querySelectorAll(".turn .text")].find((p) => p.dataset.text.includes("If you don't comply"));
		const walk = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
		for (let n = walk.nextNode(); n; n = walk.nextNode()) {
			const i = n.textContent.indexOf("If you");
			if (i < 0) continue;
			const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + 1);
			const b = r.getBoundingClientRect();
			return [b.left + 1, b.top + b.height / 2];
		}
		return [];
	})()`)
	if len(xy) != 2 {
		t.Fatalf("no “If you” on the page: %s", c.state())
	}
	c.do("click", chromedp.MouseClickXY(xy[0], xy[1]))
	c.keys("e")
	c.wait("the correction box, from the word clicked", `!document.getElementById("turn-dialog").hidden &&
		document.querySelector('input[name="turn-part"][value="from"]').checked &&
		document.getElementById("turn-word").textContent.startsWith("If you don't") &&
		document.getElementById("turn-speaker").value === "Worker"`)
	c.screenshot("turn-correction.png")
	c.click("#turn-move")
	c.wait("saved", `document.getElementById("status").textContent === "Saved."`)
	reloadUntil("the threat tagged on the worker's new turn", `(() => { const li = `+threatTurn+`;
		return !!li && li.classList.contains("role-worker") && !!li.querySelector('.chip[data-code="threat_of_escalation"]'); })()`)
	if n := evalJS[int](c, `document.querySelectorAll(".turn").length`); n != turns+1 {
		t.Errorf("%d turns after the split, want %d", n, turns+1)
	}

	// Edit the first turn's words with its Correct button.
	c.click("#t0 .turn-edit")
	c.wait("the box", `!document.getElementById("turn-dialog").hidden && document.querySelector('input[name="turn-part"][value="whole"]').checked`)
	c.do("edit the words", chromedp.Evaluate[chromedp.Void](`(() => {
		const ta = document.getElementById("turn-text");
		ta.value = ta.value.replace("eleven", "twelve");
	})()`))
	c.click("#turn-save-text")
	c.wait("saved", `document.getElementById("status").textContent === "Saved."`)
	reloadUntil("the edited words", `document.querySelector("#t0 .text").dataset.text.includes("late to school twelve times")`)

	// Merge the first two turns from the keyboard: click in the first, "+".
	c.do("put the caret in the first turn", chromedp.Evaluate[chromedp.Void](`(() => {
		const p = document.querySelector("#t0 .text");
		const r = document.createRange(); r.setStart(p.firstChild, 3); r.collapse(true);
		const s = getSelection(); s.removeAllRanges(); s.addRange(r);
	})()`))
	c.keys("+")
	c.wait("saved", `document.getElementById("status").textContent === "Saved."`)
	reloadUntil("the merged turn", `document.querySelector("#t0 .text").dataset.text.includes("twelve times this term. I know, but his little sister")`)
	if n := evalJS[int](c, `document.querySelectorAll(".turn").length`); n != turns {
		t.Errorf("%d turns after the merge, want %d", n, turns)
	}
	// The threat found on the worker's turn is still there.
	if !evalJS[bool](c, `(() => { const li = `+threatTurn+`; return !!li && !!li.querySelector('.chip[data-code="threat_of_escalation"]'); })()`) {
		t.Errorf("the threat is gone after the merge: %s", c.state())
	}
}
