package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/auth"
)

// The browser tests drive Debian's Chromium through chromedp against the
// whole embedded stack on loopback: a coach signs in with a one-time link,
// plays from a tag, reviews with the keyboard, tags selected words, writes a
// note, meets a second coach's change, and prints the reflection sheet.
//
// With HARK_UPDATE_SCREENSHOTS=1 they also rewrite the screenshots in
// docs/images.

// imagesDir is docs/images, absolute: the embedded S3 server changes the
// working directory.
var imagesDir = func() string {
	p, err := filepath.Abs(filepath.Join("..", "..", "docs", "images"))
	if err != nil {
		panic(err)
	}
	return p
}()

// chromiumPath finds the browser: HARK_CHROMIUM, else Debian's chromium.
// Without one, the test fails in CI and is skipped elsewhere.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HARK_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "the browser tests need Chromium: install Debian's chromium package (apt-get install chromium), or set HARK_CHROMIUM to a Chromium binary"
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// startBrowser starts a headless Chromium with a fresh profile and none of
// its background networking, and returns the context of its first tab. The
// browser ends with the test.
func startBrowser(t *testing.T, exe string) context.Context {
	t.Helper()
	profile := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(profile),
		chromedp.NoSandbox, // CI runs as root, in a container
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // starts the browser, bound to ctx
		t.Fatalf("start Chromium (%s): %v", exe, err)
	}
	return ctx
}

// tab is one browser tab and what a test step needs to drive it.
type tab struct {
	t    *testing.T
	name string
	ctx  context.Context
	errs chan string // errors and exceptions the page wrote to the console
}

func newTab(t *testing.T, name string, ctx context.Context) *tab {
	p := &tab{t: t, name: name, ctx: ctx, errs: make(chan string, 100)}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleError && !m.IsException() {
				continue
			}
			// A refused change answers 409, on purpose.
			if m.Source == "network" && strings.Contains(m.Text, "409") {
				continue
			}
			select {
			case p.errs <- fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1):
			default:
			}
		}
	}()
	return p
}

// checkConsole fails the test for every error the page logged.
func (p *tab) checkConsole() {
	p.t.Helper()
	for {
		select {
		case e := <-p.errs:
			p.t.Errorf("%s: the page logged %s", p.name, e)
		default:
			return
		}
	}
}

func (p *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %s: %v\npage: %s", p.name, what, err, p.state())
	}
}

func evalJS[T any](p *tab, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("%s: evaluate %s: %v", p.name, expr, err)
	}
	return v
}

// state describes the page, for failure messages.
func (p *tab) state() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({
		url: location.pathname,
		status: document.getElementById("status")?.textContent,
		progress: document.getElementById("progress-text")?.textContent,
		active: document.activeElement && (document.activeElement.tagName + "." + document.activeElement.className),
		chips: Array.from(document.querySelectorAll(".chip[data-key]")).map((c) => c.dataset.key + " " + c.className),
	})`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

// wait waits until the JavaScript expression is true.
func (p *tab) wait(what, expr string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		p.t.Fatalf("%s: %s: %v\npage: %s", p.name, what, err, p.state())
	}
}

// click scrolls the element to the middle of the window, clear of the
// sticky player, and clicks it with the mouse.
func (p *tab) click(sel string) {
	p.t.Helper()
	p.do("click "+sel,
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%s).scrollIntoView({block: "center"})`, jsString(sel))),
		chromedp.Click(chromedp.CSS(sel)),
	)
}

// clickToLoad clicks an element that loads a page, and waits for the load.
func (p *tab) clickToLoad(sel string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))); err != nil {
		p.t.Fatalf("%s: click %s and wait for the page: %v\npage: %s", p.name, sel, err, p.state())
	}
}

// keys presses each key as a keyboard does: a keyDown that carries the
// key's text, so that a page that cancels the keyDown types nothing (and
// not chromedp.KeyEvent's separate char event, which a page cannot cancel),
// then a keyUp.
func (p *tab) keys(keys string) {
	p.t.Helper()
	for _, r := range keys {
		k, ok := kb.Keys[r]
		if !ok {
			p.t.Fatalf("no key for %q", r)
		}
		down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: k.Key, Code: k.Code, Text: k.Text, UnmodifiedText: k.Unmodified,
			NativeVirtualKeyCode: k.Native, WindowsVirtualKeyCode: k.Windows}
		if k.Shift {
			down.Modifiers = int64(chromedp.ModifierShift)
		}
		up := down
		up.Type, up.Text, up.UnmodifiedText = input.DispatchKeyEventTypeKeyUp, "", ""
		p.do("press "+string(r), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			for _, ev := range []input.DispatchKeyEventParams{down, up} {
				if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, ev); err != nil {
					return err
				}
			}
			return nil
		}))
	}
}

func (p *tab) screenshot(name string) {
	p.t.Helper()
	if os.Getenv("HARK_UPDATE_SCREENSHOTS") != "1" {
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		p.t.Fatalf("%s: screenshot: %v", p.name, err)
	}
	if err := os.MkdirAll(imagesDir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(imagesDir, name), buf, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("wrote docs/images/%s (%d bytes)", name, len(buf))
}

// media emulates a CSS media type, such as print; "" ends the emulation.
func media(typ string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: typ})
		return err
	})
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// signInLink makes a user and returns a one-time sign-in link for them,
// as `hark user link` prints it.
func (b *testBundle) signInLink(name, display string, role hark.UserRole, teams ...string) string {
	b.t.Helper()
	ctx := context.Background()
	u := &hark.User{ID: auth.NewID("u_"), Name: name, Display: display, Role: role, Teams: teams, CreatedAt: time.Now()}
	if err := b.up.idx.PutUser(ctx, u); err != nil {
		b.t.Fatal(err)
	}
	token, err := auth.New(auth.Config{Accounts: b.up.idx}).NewSignInLink(ctx, u, time.Minute)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.up.Endpoints.HTTP + "/signin/link?token=" + url.QueryEscape(token)
}

func (p *tab) signIn(link string) {
	p.t.Helper()
	p.do("sign in", chromedp.Navigate(link))
	p.wait("the recordings list after signing in", `location.pathname === "/" && document.querySelector("h1")?.textContent === "Recordings"`)
}

func TestBrowserReview(t *testing.T) {
	exe := chromiumPath(t)
	began := time.Now()
	t.Setenv("HARK_MIN_CELL", "1") // three meetings: let the reports show them
	b := startUp(t, t.TempDir())
	batch, err := b.upload(uploadMeta{Team: "North", Worker: "w-17", MeetingType: "home-visit", RecordedOn: "2026-11-02"}, "", meetingsDir)
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	if r := b.waitBatch(batch, 3); r.Statuses[hark.StatusReady] != 3 {
		t.Fatalf("want 3 ready, got %+v", r)
	}
	sess := b.session("North/authoritarian.wav")
	pageURL := b.up.Endpoints.HTTP + "/recordings/" + sess.Recording.ID
	tags := sess.Annotations.Tags
	total := len(tags)
	if total < 7 {
		t.Fatalf("the authoritarian meeting has %d tags, the test needs 7", total)
	}
	// The chips in page order: the tags are in turn order.
	chipSel := func(i int) string { return fmt.Sprintf(`.chip[data-key=%s]`, jsString(tags[i].Key)) }
	threat := -1
	for i, tg := range tags {
		if tg.Code == "threat_of_escalation" && threat < 0 {
			threat = i
		}
	}
	if threat < 4 {
		t.Fatalf("want the first threat after the fourth tag, got tag %d: %+v", threat, tags)
	}
	segs := sess.Transcript.Segments
	threatSeg := segs[tags[threat].Segment]
	// The words a coach tags: in the last worker turn without tags.
	tagged := map[int]bool{}
	for _, tg := range tags {
		tagged[tg.Segment] = true
	}
	var bare hark.Segment
	for _, sg := range segs {
		if sg.Role == hark.RoleWorker && !tagged[sg.Index] {
			bare = sg
		}
	}
	words := strings.Fields(bare.Text)
	if len(words) < 5 {
		t.Fatalf("no untagged worker turn of five words or more: %+v", bare)
	}
	phrase := strings.Join(words[len(words)-4:], " ")
	phrase = strings.TrimRight(phrase, ".?!,")
	coachChip := fmt.Sprintf(`#t%d .chip.source-coach[data-code=explaining_process]`, bare.Index)
	t.Logf("stack up and meetings ready in %s", time.Since(began).Round(time.Millisecond))

	ctx := startBrowser(t, exe)
	a := newTab(t, "coach A", ctx)
	defer a.checkConsole()
	a.signIn(b.signInLink("sam", "Sam Patel", hark.RoleCoach, "North"))

	a.do("open the session page", chromedp.Navigate(pageURL))
	a.wait("the chips", fmt.Sprintf(`document.querySelectorAll(".tags .chip[data-key]").length === %d`, total))
	progress := func(p *tab, reviewed, total int) {
		p.t.Helper()
		p.wait(fmt.Sprintf("%d of %d reviewed", reviewed, total), fmt.Sprintf(
			`document.getElementById("progress-text").textContent === "%d of %d reviewed" && document.getElementById("progress").value === %d && document.getElementById("progress").max === %d`,
			reviewed, total, reviewed, total))
	}
	hasClass := func(i int, cls string) string {
		return fmt.Sprintf(`!!document.querySelector(%s)?.classList.contains(%s)`, jsString(chipSel(i)), jsString(cls))
	}
	progress(a, 0, total)
	// The steps build on each other, in order.
	step := func(name string, f func()) {
		t.Helper()
		t.Logf("%s: %s", time.Since(began).Round(time.Millisecond), name)
		f()
	}

	step("keyboard", func() {
		a.keys("j")
		a.wait("j selects and focuses the first tag", hasClass(0, "selected")+` && document.activeElement === document.querySelector(`+jsString(chipSel(0))+`)`)
		a.keys("a")
		a.wait("a accepts it, and the chip keeps the focus", hasClass(0, "review-accepted")+` && document.activeElement === document.querySelector(`+jsString(chipSel(0))+`)`)
		progress(a, 1, total)
		a.keys("j")
		a.wait("j moves to the second tag", hasClass(1, "selected")+" && !"+hasClass(0, "selected"))
		a.keys("r")
		a.wait("r rejects it", hasClass(1, "review-rejected")+" && "+hasClass(0, "review-accepted"))
		progress(a, 2, total)
		a.wait("the status says saved", `document.getElementById("status").textContent === "Saved."`)
	})

	step("play from a tag", func() {
		// The page fetches no audio until the coach plays: a "play" in the
		// audit log is a play, not a page view.
		a.wait("no audio fetched before playing", `document.getElementById("audio").readyState === 0 && document.getElementById("audio").networkState !== HTMLMediaElement.NETWORK_LOADING`)
		a.click(chipSel(threat) + " button.label")
		a.wait("the audio's metadata", `document.getElementById("audio").readyState >= 1 && document.getElementById("audio").duration > 60`)
		// The server answers ranges, so the whole recording is seekable.
		a.wait("a seekable recording", `(() => { const s = document.getElementById("audio").seekable; return s.length > 0 && s.end(0) > 60; })()`)
		start := strconv.FormatFloat(threatSeg.Start, 'f', 3, 64)
		a.wait("the audio at the turn's start "+start, `(() => { const t = document.getElementById("audio").currentTime; return t >= `+start+` - 0.05 && t < `+start+` + 3; })()`)
		a.wait("the turn highlighted", fmt.Sprintf(`document.getElementById("t%d").classList.contains("current")`, threatSeg.Index))
		a.do("pause", chromedp.Evaluate[chromedp.Void](`document.getElementById("audio").pause()`))
	})

	step("tag selected words", func() {
		a.do("select words", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
			const p = document.querySelector("#t%d .text");
			const phrase = %s;
			const walk = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
			for (let n = walk.nextNode(); n; n = walk.nextNode()) {
				const i = n.data.indexOf(phrase);
				if (i < 0) continue;
				const r = document.createRange();
				r.setStart(n, i);
				r.setEnd(n, i + phrase.length);
				const sel = window.getSelection();
				sel.removeAllRanges();
				sel.addRange(r);
				p.dispatchEvent(new MouseEvent("mouseup", { bubbles: true }));
				return;
			}
			throw new Error("phrase not in the turn: " + phrase);
		})()`, bare.Index, jsString(phrase))))
		a.wait("the add-tag box", `!document.getElementById("add-tag").hidden`)
		a.do("choose a code", chromedp.SetValue(chromedp.CSS("#add-code"), "explaining_process"))
		a.click("#add-confirm")
		a.wait("the coach's chip", `!!document.querySelector(`+jsString(coachChip)+`) && document.getElementById("add-tag").hidden`)
		a.wait("the words highlighted", fmt.Sprintf(`Array.from(document.querySelectorAll("#t%d .text mark")).map((m) => m.textContent).join("|") === %s`, bare.Index, jsString(phrase)))
		progress(a, 3, total+1)

		a.do("reload", chromedp.Reload())
		a.wait("the chips after a reload", fmt.Sprintf(`document.querySelectorAll(".tags .chip[data-key]").length === %d`, total+1))
		a.wait("the coach's chip after a reload", `document.querySelector(`+jsString(coachChip)+`)?.classList.contains("review-accepted")`)
		a.wait("the decisions after a reload", hasClass(0, "review-accepted")+" && "+hasClass(1, "review-rejected")+" && "+hasClass(2, "review-pending"))
		progress(a, 3, total+1)
	})

	const turnNote = "What did Jo hear here? Try it as a question."
	const sessionNote = "Ask Jo about a rota for the mornings."
	const privateNote = "Private: raise in supervision first."
	step("notes", func() {
		for _, n := range []struct {
			text   string
			moment bool
		}{{sessionNote, true}, {privateNote, false}} {
			a.click("#note-session")
			// The letters of the note are shortcuts too: typed in the box, they
			// must change no tag.
			a.do("type a note", chromedp.SendKeys(chromedp.CSS("#note-session"), n.text))
			if n.moment {
				a.click(`.note-form[data-segment="-1"] .note-moment`)
			}
			a.click(`.note-form[data-segment="-1"] button[type=submit]`)
			a.wait("the note on the page", `Array.from(document.querySelectorAll("#notes--1 .note-text")).some((e) => e.textContent === `+jsString(n.text)+`) && document.getElementById("note-session").value === ""`)
		}
		a.wait("the moment note starred", `document.querySelectorAll("#notes--1 li.moment").length === 1`)
		progress(a, 3, total+1)
	})

	step("stale view", func() {
		bctx, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
		defer cancel()
		c := newTab(t, "coach B", bctx)
		defer c.checkConsole()
		c.signIn(b.signInLink("alex", "Alex Morgan", hark.RoleCoach, "North"))
		c.do("open the session page", chromedp.Navigate(pageURL))
		c.wait("the chips", fmt.Sprintf(`document.querySelectorAll(".tags .chip[data-key]").length === %d`, total+1))

		a.click(chipSel(2) + ` button[data-act=accept]`)
		a.wait("the accepted tag", hasClass(2, "review-accepted")+` && document.getElementById("status").textContent === "Saved."`)
		progress(a, 4, total+1)

		c.click(chipSel(3) + ` button[data-act=reject]`)
		c.wait("the refusal", `document.getElementById("status").classList.contains("error") && document.getElementById("status").textContent.includes("someone else changed") && document.querySelector("#status button")?.textContent === "Reload now"`)
		c.wait("nothing changed on the page", hasClass(3, "review-pending"))
		c.clickToLoad("#status button")
		c.wait("the other coach's change after reloading", hasClass(2, "review-accepted")+" && "+hasClass(3, "review-pending")+` && document.getElementById("status").textContent === ""`)
		progress(c, 4, total+1)
	})

	step("moment and reflection sheet", func() {
		a.do("focus the threat", chromedp.Focus(chromedp.CSS(chipSel(threat))))
		a.keys("m")
		a.wait("m chooses it for the sheet", hasClass(threat, "moment")+" && "+hasClass(threat, "review-accepted"))
		progress(a, 5, total+1)
		a.do("focus the coach's tag", chromedp.Focus(chromedp.CSS(coachChip)))
		a.keys("m")
		a.wait("m chooses the coach's tag", `document.querySelector(`+jsString(coachChip)+`).classList.contains("moment")`)
		// A note on a turn: n on its tag.
		last := total - 1
		a.do("focus the last tag", chromedp.Focus(chromedp.CSS(chipSel(last))))
		a.keys("n")
		a.wait("the note box, focused", `!document.getElementById("note-dialog").hidden && document.activeElement === document.getElementById("note-turn")`)
		a.do("type a note on the turn", chromedp.SendKeys(chromedp.CSS("#note-turn"), turnNote))
		a.click("#note-dialog .note-moment")
		a.click("#note-dialog button[type=submit]")
		a.wait("the note under the turn", fmt.Sprintf(`document.querySelector("#notes-%d li.moment .note-text")?.textContent === %s && document.getElementById("note-dialog").hidden`, tags[last].Segment, jsString(turnNote)))
		progress(a, 5, total+1)
		// p plays from the tag's turn, which is highlighted.
		a.do("focus the threat", chromedp.Focus(chromedp.CSS(chipSel(threat))))
		a.keys("p")
		a.wait("the threat's turn playing", fmt.Sprintf(`document.getElementById("t%d").classList.contains("current")`, threatSeg.Index))
		a.do("pause and scroll up", chromedp.Evaluate[chromedp.Void](`document.getElementById("audio").pause(); document.activeElement?.blur(); window.scrollTo(0, 0)`))
		a.screenshot("session.png")

		a.clickToLoad(`a[href$="/sheet"]`)
		a.wait("the sheet", `document.querySelector("h1")?.textContent === "Moments to reflect on"`)
		a.do("print media", media("print"))
		a.wait("print media", `matchMedia("print").matches`)
		a.wait("the chosen moment", `Array.from(document.querySelectorAll(".sheet .moment blockquote")).some((q) => q.textContent === `+jsString(threatSeg.Text)+`)`)
		a.wait("the coach's strength", `Array.from(document.querySelectorAll(".sheet .moment")).some((m) => m.textContent.includes("Explaining process") && m.querySelector("blockquote").textContent === `+jsString(bare.Text)+`)`)
		a.wait("the note on a turn", `Array.from(document.querySelectorAll(".sheet .moment .note")).some((n) => n.textContent === `+jsString(turnNote)+`)`)
		a.wait("the session note for the sheet", `document.querySelector(".sheet").textContent.includes(`+jsString(sessionNote)+`)`)
		a.wait("no private note", `!document.querySelector(".sheet").textContent.includes(`+jsString(privateNote)+`)`)
		for _, sel := range []string{"header.top", ".sheet .noprint", "#print"} {
			a.wait(sel+" hidden in print", `(() => { const e = document.querySelector(`+jsString(sel)+`); return !!e && (getComputedStyle(e).display === "none" || e.offsetParent === null); })()`)
		}
		// A printer leaves a margin round the page; the screenshot draws it.
		a.do("an A4 page", chromedp.EmulateViewport(794, 1123), chromedp.Evaluate[chromedp.Void](`document.body.style.padding = "18mm 16mm"`))
		a.screenshot("reflection-sheet.png")
	})
	step("the list and the audit log", func() {
		a.do("the recordings list, narrow", media(""), chromedp.EmulateViewport(794, 1123), chromedp.Navigate(b.up.Endpoints.HTTP+"/"))
		a.wait("the review progress on the list", fmt.Sprintf(`Array.from(document.querySelectorAll("tbody tr")).some((r) => r.textContent.includes("authoritarian.wav") && r.textContent.includes("5 of %d"))`, total+1))
		// On a narrow screen the table scrolls, not the page.
		a.wait("no sideways scrolling at 794 pixels", `document.documentElement.scrollWidth <= window.innerWidth`)
		a.do("a wide window", chromedp.EmulateViewport(1280, 900))
		a.screenshot("recordings.png")
		// Coach B looked and never played: only A's plays are in the log.
		plays := map[string]int{}
		for _, u := range []string{"sam", "alex"} {
			entries, err := b.up.idx.AuditLog(context.Background(), hark.AuditFilter{User: u, RecordingID: sess.Recording.ID})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.Action == "play" {
					plays[u]++
				}
			}
		}
		if plays["sam"] == 0 || plays["alex"] != 0 {
			t.Errorf("audit log plays: %v, want some by sam and none by alex", plays)
		}
	})
	step("the reports page as an analyst", func() {
		rctx, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
		defer cancel()
		r := newTab(t, "analyst", rctx)
		defer r.checkConsole()
		r.do("sign in", chromedp.Navigate(b.signInLink("ana", "Ana Lyst", hark.RoleAnalyst)))
		r.wait("landing on the reports", `location.pathname === "/reports"`)
		r.do("a report by code", chromedp.Navigate(b.up.Endpoints.HTTP+"/reports?by=code&min-cell=1"))
		r.wait("a chart drawn on the server", `document.querySelectorAll("svg rect").length > 0 && document.querySelector("svg title") !== null`)
		r.wait("no recordings in the navigation", `!Array.from(document.querySelectorAll("header nav a")).some((a) => a.getAttribute("href") === "/")`)
		r.wait("a CSV download", `document.querySelector('a[href^="/reports.csv"]') !== null`)
		r.do("a wide window", chromedp.EmulateViewport(1280, 900))
		r.screenshot("reports.png")
	})
	t.Logf("done in %s", time.Since(began).Round(time.Millisecond))
}
