package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/harkworks/hark"
)

// A coach starts with "Start here" on the review page in Chromium: plays
// the authoritarian meeting's threat from the panel (the audio goes to
// the moment's start and its turns are marked), accepts it with the mouse
// and dismisses another from the keyboard, and finds the accepted moment,
// and only it, on the reflection sheet with its turns.
func TestBrowserStartHere(t *testing.T) {
	exe := chromiumPath(t)
	dir := t.TempDir()
	copyFile(t, filepath.Join(meetingsDir, "authoritarian.wav"), filepath.Join(dir, "visit.wav"))
	copyFile(t, filepath.Join(meetingsDir, "authoritarian.vtt"), filepath.Join(dir, "visit.vtt"))
	b := startUp(t, t.TempDir())
	batch, err := b.upload(uploadMeta{Team: "North"}, "", dir)
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	b.waitBatch(batch, 1)
	sess := b.session("North/visit.wav")
	if sess.Annotations == nil || len(sess.Annotations.Moments) < 2 {
		t.Fatalf("the meeting has no suggested moments to start from: %+v", sess.Annotations)
	}
	var threat, other *hark.Moment
	for i, m := range sess.Annotations.Moments {
		switch {
		case threat == nil && m.Cue == hark.CueThreat:
			threat = &sess.Annotations.Moments[i]
		case other == nil:
			other = &sess.Annotations.Moments[i]
		}
	}
	if threat == nil || other == nil {
		t.Fatalf("no threat among the moments, or nothing else: %+v", sess.Annotations.Moments)
	}
	turnText := map[int]string{}
	for _, sg := range sess.Transcript.Segments {
		turnText[sg.Index] = sg.Text
	}
	pageURL := b.up.Endpoints.HTTP + "/recordings/" + sess.Recording.ID
	sel := func(m *hark.Moment) string { return `.suggestion[data-key="` + m.Key + `"]` }

	ctx := startBrowser(t, exe)
	c := newTab(t, "coach", ctx)
	defer c.checkConsole()
	c.signIn(b.signInLink("sam", "Sam Patel", hark.RoleCoach, "North"))
	c.do("open the session page", chromedp.Navigate(pageURL))
	c.wait("the threat under start here, with the things to reflect on", `!!document.querySelector(`+jsString("#start-here .kind-reflect "+sel(threat))+`)`)

	// Play it: the audio at the moment's start, its turns marked, the
	// first of them in view.
	c.click(sel(threat) + " .suggestion-play")
	start := strconv.FormatFloat(threat.Start, 'f', 3, 64)
	c.wait("the audio at the moment's start "+start, `(() => { const t = document.getElementById("audio").currentTime; return t >= `+start+` - 0.05 && t < `+start+` + 3; })()`)
	segs := make([]string, len(threat.Segments))
	for i, s := range threat.Segments {
		segs[i] = strconv.Itoa(s)
	}
	c.wait("the moment's turns marked, and only they", fmt.Sprintf(`[...document.querySelectorAll(".turn.in-moment")].map((li) => li.dataset.index).join(" ") === %s`, jsString(strings.Join(segs, " "))))
	c.wait("the moment playing", `document.querySelector(`+jsString(sel(threat))+`).classList.contains("playing")`)
	c.wait("its first turn in view", fmt.Sprintf(`(() => { const r = document.getElementById("t%d").getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; })()`, threat.Segments[0]))

	// Accept it with the mouse; dismiss another from the keyboard.
	c.click(sel(threat) + ` button[data-answer="accepted"]`)
	c.wait("accepted", `document.querySelector(`+jsString(sel(threat))+`).dataset.state === "accepted" && document.getElementById("status").textContent === "Saved."`)
	c.do("focus another moment", chromedp.Evaluate[chromedp.Void](`document.getElementById("audio").pause(); document.querySelector(`+jsString(sel(other))+`).focus()`))
	c.keys("d")
	c.wait("dismissed", `document.querySelector(`+jsString(sel(other))+`).dataset.state === "dismissed" && document.querySelector(`+jsString(sel(other)+" .suggestion-state")+`).textContent === "Dismissed"`)
	c.do("scroll to the panel", chromedp.Evaluate[chromedp.Void](`document.getElementById("audio").pause(); document.activeElement?.blur(); document.getElementById("start-here").scrollIntoView({block: "start"})`))
	c.screenshot("start-here.png")

	// The answers are kept: the page opened again shows them.
	c.do("open the page again", chromedp.Navigate(pageURL))
	c.wait("the answers kept", `document.querySelector(`+jsString(sel(threat))+`).dataset.state === "accepted" && document.querySelector(`+jsString(sel(other))+`).dataset.state === "dismissed"`)

	c.do("open the reflection sheet", chromedp.Navigate(pageURL+"/sheet"))
	c.wait("the accepted moment on the sheet, with its first turn", `(() => {
		const m = document.querySelector('#suggested .suggested-moment[data-key="`+threat.Key+`"]');
		return !!m && [...m.querySelectorAll("blockquote")].some((q) => q.textContent.includes(`+jsString(turnText[threat.Segments[0]])+`));
	})()`)
	if n := evalJS[int](c, `document.querySelectorAll("#suggested .suggested-moment").length`); n != 1 {
		t.Errorf("%d suggested moments on the sheet, want the one accepted", n)
	}
	c.do("an A4 page", chromedp.EmulateViewport(794, 1123))
	c.screenshot("reflection-sheet-suggested.png")
}
