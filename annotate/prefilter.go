package annotate

import (
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A prefilter makes the rule tagger fast. Most regular expressions (cues and
// built-in patterns) can only match a text that contains one of a few
// literal strings: "\bwell done\b" needs "well done". The prefilter finds
// those literals for every expression when the tagger is built, and scans
// each segment once, in one pass of an Aho-Corasick automaton over its
// lower-case text, for all of them. An expression runs only on segments
// that contain one of its literals; one without such literals always runs.

// guardedRE is a set of alternative regular expressions (the branches of
// one pattern, or a code's cues), each with what the prefilter must find
// before it is worth running.
type guardedRE struct {
	parts []guardedPart
}

type guardedPart struct {
	re *regexp.Regexp
	// need lists clauses that must all have been found; nil when the
	// expression must always run.
	need []int
}

// possible reports whether the part can match a text whose scan gave bits.
func (p *guardedPart) possible(bits []uint64) bool {
	for _, id := range p.need {
		if bits[id>>6]&(1<<(id&63)) == 0 {
			return false
		}
	}
	return true
}

// possible reports whether any part can match a text whose scan gave bits.
func (g *guardedRE) possible(bits []uint64) bool {
	for i := range g.parts {
		if g.parts[i].possible(bits) {
			return true
		}
	}
	return false
}

// match reports whether any part matches text, whose scan gave bits.
func (g *guardedRE) match(bits []uint64, text string) bool {
	for i := range g.parts {
		if p := &g.parts[i]; p.possible(bits) && p.re.MatchString(text) {
			return true
		}
	}
	return false
}

// prefilterBuilder collects the clauses of expressions and builds the
// automaton. A clause is a set of literals one of which must be present.
type prefilterBuilder struct {
	lits    []string // literals, lower-case
	owners  [][]int  // for each literal, the clauses it satisfies
	litIDs  map[string]int
	clauses map[string]int
	n       int // clauses so far
}

// add compiles expressions, matched case-insensitively, into one guarded
// set: each is split at its top-level alternatives, which are compiled and
// guarded on their own.
func (b *prefilterBuilder) add(exprs ...string) (*guardedRE, error) {
	g := &guardedRE{}
	for _, expr := range exprs {
		branches := splitAlternatives(expr)
		res := make([]*regexp.Regexp, len(branches))
		for i, branch := range branches {
			re, err := regexp.Compile("(?i)" + branch)
			if err != nil {
				res = nil
				break
			}
			res[i] = re
		}
		if res == nil {
			// Splitting went wrong on some unusual syntax: keep it whole.
			re, err := regexp.Compile("(?i)" + expr)
			if err != nil {
				return nil, err
			}
			res = []*regexp.Regexp{re}
		}
		for _, re := range res {
			part := guardedPart{re: re}
			if cnf, ok := requiredLiterals(re.String()); ok {
				for _, clause := range cnf {
					part.need = append(part.need, b.clause(clause))
				}
			}
			g.parts = append(g.parts, part)
		}
	}
	return g, nil
}

// splitAlternatives splits a regular expression at the bars outside any
// group or class: "a|b(c|d)" gives "a" and "b(c|d)". An expression that
// sets flags for the rest of it, such as "(?s)", is left whole.
func splitAlternatives(expr string) []string {
	for i := 0; i+2 < len(expr); i++ {
		if expr[i] == '\\' {
			i++
			continue
		}
		if expr[i] == '(' && expr[i+1] == '?' && expr[i+2] != ':' && expr[i+2] != 'P' {
			return []string{expr}
		}
	}
	var parts []string
	depth, start := 0, 0
	inClass := false
	for i := 0; i < len(expr); i++ {
		switch c := expr[i]; {
		case c == '\\':
			i++
		case inClass:
			if c == '[' && i+1 < len(expr) && expr[i+1] == ':' {
				if j := strings.Index(expr[i:], ":]"); j > 0 {
					i += j + 1 // a POSIX class: [:alpha:]
				}
			} else if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			if i+1 < len(expr) && expr[i+1] == '^' {
				i++
			}
			if i+1 < len(expr) && expr[i+1] == ']' {
				i++ // a leading ] is part of the class
			}
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '|' && depth == 0:
			parts = append(parts, expr[start:i])
			start = i + 1
		}
	}
	return append(parts, expr[start:])
}

// clause returns the id of a clause, adding it when it is new.
func (b *prefilterBuilder) clause(lits []string) int {
	if b.clauses == nil {
		b.clauses = make(map[string]int)
		b.litIDs = make(map[string]int)
	}
	key := strings.Join(lits, "\x00")
	if id, ok := b.clauses[key]; ok {
		return id
	}
	id := b.n
	b.n++
	b.clauses[key] = id
	for _, l := range lits {
		if i, ok := b.litIDs[l]; ok {
			b.owners[i] = append(b.owners[i], id)
			continue
		}
		b.litIDs[l] = len(b.lits)
		b.lits = append(b.lits, l)
		b.owners = append(b.owners, []int{id})
	}
	return id
}

// prefilter is an Aho-Corasick automaton over the literals of a set of
// expressions, on an alphabet of the bytes the literals use.
type prefilter struct {
	class [256]uint8 // byte → symbol; 0 for bytes no literal has
	nsym  int
	delta []int32  // state*nsym + symbol → state
	out   []uint64 // state*words: the clauses a literal ending here satisfies
	words int
}

func (b *prefilterBuilder) build() *prefilter {
	p := &prefilter{words: (b.n + 63) / 64}
	if p.words == 0 {
		p.words = 1
	}
	p.nsym = 1
	for _, l := range b.lits {
		for i := 0; i < len(l); i++ {
			if p.class[l[i]] == 0 {
				p.class[l[i]] = uint8(p.nsym)
				p.nsym++
			}
		}
	}
	// The trie.
	type node struct {
		next map[uint8]int32
		out  []int
	}
	nodes := []node{{next: map[uint8]int32{}}}
	for i, l := range b.lits {
		s := int32(0)
		for j := 0; j < len(l); j++ {
			c := p.class[l[j]]
			t, ok := nodes[s].next[c]
			if !ok {
				t = int32(len(nodes))
				nodes = append(nodes, node{next: map[uint8]int32{}})
				nodes[s].next[c] = t
			}
			s = t
		}
		nodes[s].out = append(nodes[s].out, b.owners[i]...)
	}
	// Breadth first: failure links folded into a full transition table.
	p.delta = make([]int32, len(nodes)*p.nsym)
	p.out = make([]uint64, len(nodes)*p.words)
	fail := make([]int32, len(nodes))
	for _, id := range nodes[0].out {
		p.out[id>>6] |= 1 << (id & 63)
	}
	queue := []int32{}
	for c := 0; c < p.nsym; c++ {
		if t, ok := nodes[0].next[uint8(c)]; ok && c != 0 {
			p.delta[c] = t
			fail[t] = 0
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := fail[s]
		for _, id := range nodes[s].out {
			p.out[int(s)*p.words+id>>6] |= 1 << (id & 63)
		}
		for w := 0; w < p.words; w++ {
			p.out[int(s)*p.words+w] |= p.out[int(f)*p.words+w]
		}
		for c := 0; c < p.nsym; c++ {
			t, ok := nodes[s].next[uint8(c)]
			if ok && c != 0 {
				fail[t] = p.delta[int(f)*p.nsym+c]
				p.delta[int(s)*p.nsym+c] = t
				queue = append(queue, t)
			} else {
				p.delta[int(s)*p.nsym+c] = p.delta[int(f)*p.nsym+c]
			}
		}
	}
	return p
}

// scanAppend appends to dst the clauses a text whose lower-case bytes are
// low satisfies. foldsToASCII reports that the original text has a
// character that case-folds to an ASCII letter (the Kelvin sign, the long
// s); lower-casing bytes does not see those, so then every clause holds.
func (p *prefilter) scanAppend(low []byte, foldsToASCII bool, dst []uint64) []uint64 {
	n := len(dst)
	for i := 0; i < p.words; i++ {
		dst = append(dst, 0)
	}
	out := dst[n:]
	if foldsToASCII {
		for i := range out {
			out[i] = ^uint64(0)
		}
		return dst
	}
	s := int32(0)
	for _, c := range low {
		s = p.delta[int(s)*p.nsym+int(p.class[c])]
		if p.words == 1 {
			out[0] |= p.out[s]
			continue
		}
		for w := 0; w < p.words; w++ {
			out[w] |= p.out[int(s)*p.words+w]
		}
	}
	return dst
}

// requiredLiterals reads what every match of an expression contains: a
// list of clauses, each a set of lower-case literals one of which is in
// every match. It returns false when there is nothing to be had.
func requiredLiterals(expr string) ([][]string, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, false
	}
	cnf, ok := required(re.Simplify())
	if !ok || len(cnf) == 0 {
		return nil, false
	}
	return cnf, true
}

// maxClauses is how many clauses of a concatenation are kept: the most
// selective.
const maxClauses = 3

// required is requiredLiterals on a parsed expression.
func required(re *syntax.Regexp) ([][]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		var b strings.Builder
		for _, r := range re.Rune {
			if r >= utf8.RuneSelf && unicode.SimpleFold(r) != r {
				return nil, false // lower-casing bytes cannot fold this letter
			}
			if r < utf8.RuneSelf {
				r = unicode.ToLower(r)
			}
			b.WriteRune(r)
		}
		if re.Flags&syntax.FoldCase == 0 && b.String() != string(re.Rune) {
			return nil, false // a case-sensitive literal with capitals: keep it simple
		}
		return [][]string{{b.String()}}, true
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
		return nil, false
	case syntax.OpAlternate:
		// One of the branches matches: the union of each branch's best
		// clause.
		var union []string
		for _, sub := range re.Sub {
			cnf, ok := required(sub)
			if !ok {
				return nil, false
			}
			union = append(union, cnf[0]...)
		}
		if len(union) > 64 {
			return nil, false
		}
		return [][]string{union}, true
	case syntax.OpConcat:
		// Every part matches: all their clauses, with runs of literals
		// joined ("it", " ", "sounds").
		var cnf [][]string
		var run strings.Builder
		flush := func() {
			if run.Len() > 0 {
				cnf = append(cnf, []string{run.String()})
				run.Reset()
			}
		}
		for _, sub := range re.Sub {
			if sub.Op == syntax.OpLiteral {
				if lits, ok := required(sub); ok {
					run.WriteString(lits[0][0])
					continue
				}
			}
			flush()
			if c, ok := required(sub); ok {
				cnf = append(cnf, c...)
			}
		}
		flush()
		if len(cnf) == 0 {
			return nil, false
		}
		sort.SliceStable(cnf, func(i, j int) bool { return selectivity(cnf[i]) > selectivity(cnf[j]) })
		if len(cnf) > maxClauses {
			cnf = cnf[:maxClauses]
		}
		return cnf, true
	}
	return nil, false
}

// selectivity rates a clause: longer and rarer literals are better, and a
// clause with one common short word is poor.
func selectivity(lits []string) int {
	shortest := 1 << 20
	for _, l := range lits {
		n := len(strings.TrimSpace(l))
		switch strings.TrimSpace(l) {
		case "you", "the", "it", "to", "and", "a", "i", "that", "is", "of", "this", "we", "so":
			n = 1
		}
		if n < shortest {
			shortest = n
		}
	}
	return shortest*16 - len(lits)/4
}
