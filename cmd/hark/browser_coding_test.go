package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/harkworks/hark"
)

// Two coders code a session blind in Chromium, each in a browser of their
// own: each sees "Independent coding" and only their own decisions, marks
// the review complete; then a lead opens the reconciliation page, which
// lists the one tag they disagree on, chooses whose answer stands and
// settles; the session page then shows the settled review to everyone.
func TestBrowserDoubleCoding(t *testing.T) {
	exe := chromiumPath(t)
	b := startUp(t, t.TempDir())
	batch, err := b.upload(uploadMeta{Team: "North"}, "", meetingsDir)
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	b.waitBatch(batch, 3)
	sess := b.session("North/authoritarian.wav")
	tags := sess.Annotations.Tags
	if len(tags) < 2 {
		t.Fatalf("the meeting has %d tags, the test needs 2", len(tags))
	}
	pageURL := b.up.Endpoints.HTTP + "/recordings/" + sess.Recording.ID
	chip := func(i int) string { return fmt.Sprintf(`.chip[data-key=%s]`, jsString(tags[i].Key)) }
	hasClass := func(i int, cls string) string {
		return fmt.Sprintf(`!!document.querySelector(%s)?.classList.contains(%s)`, jsString(chip(i)), jsString(cls))
	}
	links := map[string]string{}
	for _, name := range []string{"sam", "alex", "lead"} {
		links[name] = b.signInLink(name, strings.ToUpper(name[:1])+name[1:], hark.RoleCoach, "North")
	}
	if out, err := runHark(t, b.dataDir, "", "double-code", "mark", sess.Recording.ID, "--coders", "sam,alex"); err != nil {
		t.Fatalf("mark: %v\n%s", err, out)
	}

	ctx := startBrowser(t, exe)
	code := func(name string, decide []string) {
		t.Helper()
		bctx, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
		defer cancel()
		c := newTab(t, name, bctx)
		defer c.checkConsole()
		c.signIn(links[name])
		c.do("open the session", chromedp.Navigate(pageURL))
		c.wait("the independent coding notice, nothing decided", `document.getElementById("coding")?.textContent.includes("Independent coding") && `+hasClass(0, "review-pending")+" && "+hasClass(1, "review-pending"))
		for i, act := range decide {
			c.click(chip(i) + ` button[data-act=` + act + `]`)
			c.wait(act, hasClass(i, "review-"+act+"ed")+` && document.getElementById("status").textContent === "Saved."`)
		}
		c.click("#complete")
		c.wait("complete", `document.getElementById("complete").dataset.state === "complete"`)
	}
	code("sam", []string{"accept", "accept"})
	code("alex", []string{"accept", "reject"}) // alex sees none of sam's decisions: both pending above

	lead := newTab(t, "lead", ctx)
	defer lead.checkConsole()
	lead.signIn(links["lead"])
	lead.do("open the session", chromedp.Navigate(pageURL))
	lead.wait("the session waits for its coders", `document.getElementById("coding")?.textContent.includes("being double-coded by sam, alex") && !document.getElementById("complete")`)
	lead.clickToLoad(`#coding a`)
	lead.wait("one disagreement", fmt.Sprintf(`document.querySelectorAll("tr.disagreement").length === 1 && document.querySelector("tr.disagreement").dataset.code === %s`, jsString(tags[1].Code)))
	lead.screenshot("reconcile.png")
	lead.click(`tr.disagreement input[value="alex"]`)
	lead.clickToLoad("#settle")
	lead.wait("the session page, settled as alex answered", `location.pathname.startsWith("/recordings/") && !document.getElementById("coding") && `+hasClass(0, "review-accepted")+" && "+hasClass(1, "review-rejected"))
	if dc, err := b.up.idx.DoubleCoding(t.Context(), sess.Recording.ID); err != nil || dc.Blind() || dc.SettledBy != "lead" {
		t.Errorf("after settling in the browser: %+v %v", dc, err)
	}
	// The settled mark is copied next to the recording, for `hark reindex`.
	r, _, err := b.up.store.Get(t.Context(), hark.DoubleCodingKey(sess.Recording.ID))
	if err != nil {
		t.Fatalf("the mark in the object store: %v", err)
	}
	defer r.Close()
	var stored hark.DoubleCoding
	if err := json.NewDecoder(r).Decode(&stored); err != nil || stored.Blind() || stored.SettledBy != "lead" {
		t.Errorf("the mark in the object store after settling: %+v %v", stored, err)
	}
}
