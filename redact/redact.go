// Package redact finds the identifiers in what was said — people's names,
// phone numbers, e-mail addresses, postcodes, NHS numbers, dates of birth,
// street addresses — and masks them, keeping every byte offset where it
// was, so that tags stay on their words.
package redact

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/harkworks/hark"
)

// The kinds of identifier a Redactor finds.
const (
	KindName     = "name"
	KindPhone    = "phone"
	KindEmail    = "email"
	KindPostcode = "postcode"
	KindNHS      = "nhs_number"
	KindDate     = "date_of_birth"
	KindAddress  = "address"
	// KindMasked is what was masked already: found again in a masked text,
	// so that its time can be silenced in the audio.
	KindMasked = "masked"
)

// Span is one identifier found: its kind and its place in bytes.
type Span struct {
	Kind       string
	Start, End int
}

// Config says what a Redactor looks for besides the patterns.
type Config struct {
	// Names are people's names to find wherever they are said: a team's
	// list, the speakers' names. Matched as whole words, any case.
	Names []string
}

// A Redactor finds and masks identifiers. It is safe for concurrent use.
type Redactor struct {
	cfg      Config
	names    *regexp.Regexp // nil without names
	patterns []pattern
}

type pattern struct {
	kind  string
	re    *regexp.Regexp
	group int // the submatch that is the identifier; 0 for all of it
	check func(string) bool
}

var (
	months = `(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)`
	// The patterns, in the order their finds win when two overlap.
	builtin = []pattern{
		{kind: KindMasked, re: regexp.MustCompile(`\*+(?: \*+)*`), check: func(s string) bool { return len(s) >= 2 }},
		{kind: KindEmail, re: regexp.MustCompile(`(?i)\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b`)},
		{kind: KindNHS, re: regexp.MustCompile(`\b\d{3}[ -]?\d{3}[ -]?\d{4}\b`), check: nhsValid},
		{kind: KindPhone, re: regexp.MustCompile(`(?:\+44\s?|\b0)(?:\d[\s-]?){8,9}\d\b`)},
		{kind: KindPostcode, re: regexp.MustCompile(`(?i)\b[a-z]{1,2}\d[a-z\d]?\s*\d[a-z]{2}\b`)},
		{kind: KindDate, re: regexp.MustCompile(`(?i)\b(?:born|birthday|date of birth|d\.?o\.?b\.?)\b[^.?!]{0,12}?\b((?:\d{1,2}(?:st|nd|rd|th)?[ /.-](?:\d{1,2}|` + months + `)[ /.-](?:\d{4}|\d{2})\b)|(?:\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?` + months + `(?:\s+\d{4})?)|(?:` + months + `\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?))`), group: 1},
		{kind: KindAddress, re: regexp.MustCompile(`(?i)\b\d{1,4}[a-z]?,?\s+(?:[a-z]+\s+){1,3}(?:road|rd|street|st|avenue|ave|lane|close|drive|way|crescent|court|place|grove|gardens|terrace|walk|square|hill|mews|row|view)\b`)},
	}
	// Words that introduce a person's name: "my son Leo", "she's called
	// Mia", "his name is Tom".
	introduced = regexp.MustCompile(`\b(?i:my|our|his|her|their|your)\s+(?i:son|daughter|boy|girl|baby|partner|husband|wife|boyfriend|girlfriend|mum|mam|dad|brother|sister|nan|nana|gran|grandad|auntie|aunt|uncle|ex|cousin|friend)\s+([A-Z][a-z]+)\b|\b(?i:called|named|name's|name is)\s+([A-Z][a-z]+)\b`)
	notNames   = map[string]bool{"And": true, "But": true, "The": true, "Then": true, "So": true, "He": true, "She": true, "They": true, "It": true, "Is": true, "Was": true, "Not": true, "Just": true, "Now": true}
)

// New returns a Redactor for the config.
func New(cfg Config) *Redactor {
	r := &Redactor{cfg: cfg, patterns: builtin}
	var alts []string
	for _, n := range cfg.Names {
		if n = strings.TrimSpace(n); len(n) >= 2 {
			alts = append(alts, regexp.QuoteMeta(n))
		}
	}
	if len(alts) > 0 {
		sort.Slice(alts, func(i, j int) bool { return len(alts[i]) > len(alts[j]) }) // the longest first
		r.names = regexp.MustCompile(`(?i)(?:^|[^\pL\pN])(` + strings.Join(alts, "|") + `)(?:[^\pL\pN]|$)`)
	}
	return r
}

// Learn returns a Redactor that also finds, everywhere, the names the
// texts introduce ("my son Leo", "she's called Mia"): a name said once
// with a cue is masked wherever it is said again.
func (r *Redactor) Learn(texts ...string) *Redactor {
	seen := map[string]bool{}
	names := slices.Clone(r.cfg.Names)
	for _, text := range texts {
		for _, m := range introduced.FindAllStringSubmatch(text, -1) {
			for _, n := range m[1:] {
				if n != "" && !notNames[n] && !seen[n] {
					seen[n] = true
					names = append(names, n)
				}
			}
		}
	}
	if len(names) == len(r.cfg.Names) {
		return r
	}
	return New(Config{Names: names})
}

// Find returns the identifiers in text, in order, none overlapping.
func (r *Redactor) Find(text string) []Span {
	var spans []Span
	for _, p := range r.patterns {
		for _, m := range p.re.FindAllStringSubmatchIndex(text, -1) {
			a, b := m[2*p.group], m[2*p.group+1]
			if a < 0 || (p.check != nil && !p.check(text[a:b])) {
				continue
			}
			spans = append(spans, Span{Kind: p.kind, Start: a, End: b})
		}
	}
	for _, m := range introduced.FindAllStringSubmatchIndex(text, -1) {
		for g := 1; g <= 2; g++ {
			if a, b := m[2*g], m[2*g+1]; a >= 0 && !notNames[text[a:b]] {
				spans = append(spans, Span{Kind: KindName, Start: a, End: b})
			}
		}
	}
	if r.names != nil {
		for from := 0; from < len(text); {
			m := r.names.FindStringSubmatchIndex(text[from:])
			if m == nil {
				break
			}
			spans = append(spans, Span{Kind: KindName, Start: from + m[2], End: from + m[3]})
			from += m[3]
		}
	}
	// Sorted, and of two that overlap the one found by the earlier
	// pattern (or, of the same kind, the longer) wins.
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].Start < spans[j].Start })
	var out []Span
	for _, s := range spans {
		if n := len(out); n > 0 && s.Start < out[n-1].End {
			if s.End > out[n-1].End && s.Kind == out[n-1].Kind {
				out[n-1].End = s.End
			}
			continue
		}
		out = append(out, s)
	}
	return out
}

// Mask returns text with each span's characters replaced by '*' (spaces
// kept), byte for byte, so that every offset into text is an offset into
// the result.
func Mask(text string, spans []Span) string {
	if len(spans) == 0 {
		return text
	}
	b := []byte(text)
	for _, s := range spans {
		for i := s.Start; i < s.End; {
			r, size := utf8.DecodeRuneInString(text[i:])
			if !unicode.IsSpace(r) {
				for k := range size {
					b[i+k] = '*'
				}
			}
			i += size
		}
	}
	return string(b)
}

// Redact returns text masked, and what was masked.
func (r *Redactor) Redact(text string) (string, []Span) {
	spans := r.Find(text)
	return Mask(text, spans), spans
}

// Transcript returns a copy of t with every turn's identifiers masked (a
// name introduced in one turn masked in all: Learn), and
// every speaker named in the names list called by their role instead
// ("Parent 1", "Worker 1"; Speaker 1, Speaker 2, … keep their labels). It reports how many
// identifiers it masked, by kind.
func (r *Redactor) Transcript(t *hark.Transcript) (*hark.Transcript, map[string]int) {
	texts := make([]string, len(t.Segments))
	for i, s := range t.Segments {
		texts[i] = s.Text
	}
	r = r.Learn(texts...)
	c := *t
	c.Segments = slices.Clone(t.Segments)
	counts := map[string]int{}
	renamed := map[string]string{}
	perRole := map[hark.Role]int{}
	for i := range c.Segments {
		seg := &c.Segments[i]
		text, spans := r.Redact(seg.Text)
		seg.Text = text
		for _, s := range spans {
			counts[s.Kind]++
		}
		if r.names == nil || seg.Speaker == "" || !r.names.MatchString(seg.Speaker) {
			continue
		}
		if _, ok := renamed[seg.Speaker]; !ok {
			perRole[seg.Role]++
			role := string(seg.Role)
			if role == "" {
				role = string(hark.RoleUnknown)
			}
			renamed[seg.Speaker] = fmt.Sprintf("%s %d", strings.ToUpper(role[:1])+role[1:], perRole[seg.Role])
			counts[KindName]++
		}
		seg.Speaker = renamed[seg.Speaker]
	}
	if c.Speakers != nil && len(renamed) > 0 {
		info := *c.Speakers
		info.Roles = slices.Clone(info.Roles)
		for k := range info.Roles {
			if n, ok := renamed[info.Roles[k].Speaker]; ok {
				info.Roles[k].Speaker = n
			}
		}
		c.Speakers = &info
	}
	return &c, counts
}

// nhsValid reports whether digits (with spaces or dashes) make an NHS
// number: ten digits whose last is the modulus-11 check digit of the nine
// before.
func nhsValid(s string) bool {
	var d []int
	for _, r := range s {
		if r >= '0' && r <= '9' {
			d = append(d, int(r-'0'))
		}
	}
	if len(d) != 10 {
		return false
	}
	sum := 0
	for i := range 9 {
		sum += d[i] * (10 - i)
	}
	check := 11 - sum%11
	if check == 11 {
		check = 0
	}
	return check != 10 && check == d[9]
}
