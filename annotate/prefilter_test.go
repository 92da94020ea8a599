package annotate

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestSplitAlternatives(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`a|b`, []string{`a`, `b`}},
		{`\bwell done\b`, []string{`\bwell done\b`}},
		{`a(b|c)|d`, []string{`a(b|c)`, `d`}},
		{`[|]x|y`, []string{`[|]x`, `y`}},
		{`[]|]x|y`, []string{`[]|]x`, `y`}},
		{`[^]|]x|y`, []string{`[^]|]x`, `y`}},
		{`[[:alpha:]|]x|y`, []string{`[[:alpha:]|]x`, `y`}},
		{`a\|b|c`, []string{`a\|b`, `c`}},
		{`(?:a|b)|c`, []string{`(?:a|b)`, `c`}},
		{`(?P<n>a|b)|c`, []string{`(?P<n>a|b)`, `c`}},
		{`(?i)a|b`, []string{`(?i)a|b`}}, // flags for the rest: kept whole
		{`a(?s:.)|b`, []string{`a(?s:.)|b`}},
	} {
		if got := splitAlternatives(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitAlternatives(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestRequiredLiterals(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want [][]string
		ok   bool
	}{
		{`(?i)\bWell Done\b`, [][]string{{"well done"}}, true},
		{`(?i)\b(it|that) (sounds|seems) like\b`, nil, true},
		{`(?i)x*`, nil, false},
		{`(?i)\w+`, nil, false},
		{`(?i)(a|b*)`, nil, false},
		// é and É fold into each other, which lower-casing bytes does not do.
		{`(?i)café`, nil, false},
		{`(?i)caf’`, [][]string{{"caf’"}}, true}, // ’ has no case
	} {
		got, ok := requiredLiterals(tc.in)
		if ok != tc.ok || tc.want != nil && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("requiredLiterals(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// The prefilter may only skip an expression that cannot match: on every
// sentence of the examples and the role-play meetings, every cue and
// built-in pattern gives the same answer guarded as plain.
func TestPrefilterAgrees(t *testing.T) {
	cb := DefaultCodebook()
	var exprs []string
	for _, c := range cb.Codes {
		exprs = append(exprs, c.Cues...)
	}
	exprs = append(exprs, `(?i)x*`, `café|CAFÉ`, `\bkelvin\b`, `\bstraße\b`)
	var texts []string
	for _, c := range cb.Codes {
		for _, ex := range append(append([]string{}, c.Examples.Positive...), c.Examples.Negative...) {
			for _, turn := range strings.Split(ex, "||") {
				_, text, _ := strings.Cut(turn, ": ")
				texts = append(texts, turn, text)
			}
		}
	}
	texts = append(texts, workerTurns...)
	texts = append(texts, parentTurns...)
	texts = append(texts, "CAFÉ au lait", "the \u212aelvin scale", "STRASSE or straße", "You’re saying it’s fine")

	pb := &prefilterBuilder{}
	var guarded []*guardedRE
	for _, e := range exprs {
		g, err := pb.add(e)
		if err != nil {
			t.Fatal(err)
		}
		guarded = append(guarded, g)
	}
	b := compileBuiltins(pb)
	guarded = append(guarded, b.escalation, b.ifCondition, b.orCondition, b.consequence, b.reassurance, b.noChoice,
		b.dirModal, b.dirNegated, b.dirReported, b.dirInfo, b.dirOffer, b.reflectStrong, b.reflectVerb, b.empathy)
	pf := pb.build()
	a := &analysis{lx: newLexicon()}
	for _, text := range texts {
		a.low, a.toks, a.sents = a.low[:0], a.toks[:0], a.sents[:0]
		info := a.addSegment(text)
		fold := strings.Contains(text, "\u212a") || strings.Contains(text, "\u017f")
		for k := info.s0; k < info.s1; k++ {
			s := &a.sents[k]
			st := text[s.start:s.end]
			bits := pf.scanAppend(a.low[info.base+s.start:info.base+s.end], fold, nil)
			for _, g := range guarded {
				plain := false
				for _, p := range g.parts {
					plain = plain || regexp.MustCompile(p.re.String()).MatchString(st)
				}
				if got := g.match(bits, st); got != plain {
					t.Errorf("%q on %q: guarded %v, plain %v", g.parts[0].re, st, got, plain)
				}
			}
		}
	}
}
