package main

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/harkworks/hark"
)

// A coach corrects who speaks on the review page in Chromium: the roles of
// a meeting came out the wrong way round, the coach gives each speaker the
// right one under "Speakers", the page shows the corrected roles, and the
// worker's threats of escalation come back on the worker's turns once the
// session is tagged again.
func TestBrowserSpeakerCorrections(t *testing.T) {
	exe := chromiumPath(t)
	b := startUp(t, t.TempDir())
	batch, err := b.upload(uploadMeta{Team: "North"}, "", swappedMeeting(t))
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	b.waitBatch(batch, 1)
	sess := b.session("North/visit.wav")
	pageURL := b.up.Endpoints.HTTP + "/recordings/" + sess.Recording.ID

	ctx := startBrowser(t, exe)
	c := newTab(t, "coach", ctx)
	defer c.checkConsole()
	c.signIn(b.signInLink("sam", "Sam Patel", hark.RoleCoach, "North"))
	c.do("open the session page", chromedp.Navigate(pageURL))
	c.wait("the speakers", `document.querySelectorAll("select.speaker-role").length === 2`)
	c.wait("no threat yet", `document.querySelectorAll('.chip[data-code="threat_of_escalation"]').length === 0`)
	c.click("details.speakers summary")

	setRole := func(speaker, role string) {
		t.Helper()
		c.do("give "+speaker+" the role "+role, chromedp.Evaluate[chromedp.Void](`(() => {
			const s = document.querySelector('select.speaker-role[data-speaker=`+jsString(speaker)+`]');
			s.value = `+jsString(role)+`;
			s.dispatchEvent(new Event("change", {bubbles: true}));
		})()`))
	}
	// The page saves, then reloads itself to show every turn changed; the
	// test waits out the reload, then opens the page afresh.
	settle := func() {
		t.Helper()
		c.wait("saved", `document.getElementById("status").textContent === "Saved."`)
		time.Sleep(2500 * time.Millisecond)
		c.do("open the page again", chromedp.Navigate(pageURL))
	}
	setRole("Parent", "worker")
	settle()
	c.wait("the correction shown", `[...document.querySelectorAll(".speaker-roles li")].some((li) => li.textContent.includes("Parent: worker") && li.textContent.includes("set by a coach"))`)
	c.click("details.speakers summary")
	setRole("Worker", "parent")
	settle()
	c.wait("both corrections shown", `[...document.querySelectorAll(".speaker-roles li")].some((li) => li.textContent.includes("Worker: parent") && li.textContent.includes("set by a coach"))`)
	c.wait("the Parent's turns are the worker's", `document.querySelectorAll(".turn.role-worker .speaker").length > 0 &&
		[...document.querySelectorAll(".turn.role-worker .speaker")].every((s) => s.textContent.startsWith("Parent"))`)
	// The annotate stage tags the session again: reload until the threats
	// are back, on the worker's (the Parent's) turns.
	for i := 0; ; i++ {
		time.Sleep(200 * time.Millisecond)
		c.do("reload", chromedp.Navigate(pageURL))
		n := evalJS[int](c, `[...document.querySelectorAll('.chip[data-code="threat_of_escalation"]')].filter((ch) => ch.closest(".turn").querySelector(".speaker").textContent.startsWith("Parent")).length`)
		if n > 0 {
			break
		}
		if i == 50 {
			t.Fatalf("no threat of escalation on the corrected worker's turns\npage: %s", c.state())
		}
	}
	c.click("details.speakers summary")
	c.screenshot("speakers.png")
}
