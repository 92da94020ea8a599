package annotate

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/harkworks/hark"
)

// ModelSchema is the version of the model file's layout.
const ModelSchema = 1

// A Model is a trained classifier per code of a codebook: logistic
// regression over what a turn says (words, pairs and triples of words,
// letter groups that survive a speech engine's misspellings), the rule
// tagger's findings on it, its form (a question, a condition with a
// consequence) and its context (who spoke before, what they said, what the
// rules found there). Beside the rule tagger it gives each turn a
// probability per code; ModelTagger combines the two.
//
// The file is JSON: the features by name, so a tag can be explained by
// the features that weighed most, and per code a bias, the features'
// weights and the threshold the probability must reach. hark train writes
// it; it is deterministic for the same data and options.
type Model struct {
	Schema          int    `json:"schema"`
	Version         string `json:"version"`
	Codebook        string `json:"codebook"`
	CodebookVersion string `json:"codebook_version"`
	// TrainedOn says what it was trained on, for people; Turns is how
	// many turns.
	TrainedOn string `json:"trained_on"`
	Turns     int    `json:"turns"`
	// Features are the features' names; a code's weights refer to them by
	// position.
	Features []string              `json:"features"`
	Codes    map[string]*CodeModel `json:"codes"`

	index featureIndex // feature hash → position
	group []uint8      // by position: featureGroup of its name
}

// featureIndex maps a feature's hash to its position: an open-addressing
// table at most half full, probed linearly. Every turn looks up a few
// hundred hashes, most of them unknown, and this is about twice as fast as
// a map for that.
type featureIndex struct {
	keys  []uint64
	pos   []int32 // -1: empty
	shift uint
}

func newFeatureIndex(n int) featureIndex {
	size, shift := 16, uint(60)
	for size < 2*n {
		size, shift = size*2, shift-1
	}
	x := featureIndex{keys: make([]uint64, size), pos: make([]int32, size), shift: shift}
	for i := range x.pos {
		x.pos[i] = -1
	}
	return x
}

// slot is where h is, or the empty slot where it would go.
func (x *featureIndex) slot(h uint64) int {
	mask := len(x.keys) - 1
	i := int((h * 0x9E3779B97F4A7C15) >> x.shift)
	for x.pos[i] >= 0 && x.keys[i] != h {
		i = (i + 1) & mask
	}
	return i
}

// get returns the position of the feature whose hash is h.
func (x *featureIndex) get(h uint64) (int32, bool) {
	if len(x.keys) == 0 {
		return 0, false
	}
	p := x.pos[x.slot(h)]
	return p, p >= 0
}

// Feature groups: a feature of a normalised group weighs 1/√n, n the
// number of the turn's features in its group, so that a long turn's many
// words do not outweigh what it is (a question, what the rules found).
const (
	groupPlain uint8 = iota // form, rules, context: weigh 1
	groupWords              // words, pairs, triples
	groupChars              // letter groups
	groupPrev               // the turn before's words
	groupCount
)

func featureGroup(name string) uint8 {
	switch {
	case strings.HasPrefix(name, "w:"), strings.HasPrefix(name, "b:"), strings.HasPrefix(name, "t:"):
		return groupWords
	case strings.HasPrefix(name, "c:"):
		return groupChars
	case strings.HasPrefix(name, "pw:"):
		return groupPrev
	}
	return groupPlain
}

// values is the weight each feature of a turn carries, by its group.
func values(group []uint8, feats []int32, dst []float32) []float32 {
	var n [groupCount]int
	for _, f := range feats {
		n[group[f]]++
	}
	var scale [groupCount]float32
	scale[groupPlain] = 1
	for g := groupWords; g < groupCount; g++ {
		if n[g] > 0 {
			scale[g] = float32(1 / math.Sqrt(float64(n[g])))
		}
	}
	dst = dst[:0]
	for _, f := range feats {
		dst = append(dst, scale[group[f]])
	}
	return dst
}

// CodeModel is one code's classifier.
type CodeModel struct {
	Bias float64 `json:"bias"`
	// Threshold is the probability from which a turn gets the code without
	// the rules; RuleThreshold the lower one that confirms a rule's tag.
	Threshold     float64 `json:"threshold"`
	RuleThreshold float64 `json:"rule_threshold"`
	// Feature and Weight are the non-zero weights, Feature a position in
	// Model.Features.
	Feature []int32   `json:"feature"`
	Weight  []float64 `json:"weight"`

	dense []float32 // by feature position
}

// ReadModel reads a model file and checks that it fits the codebook.
// Errors are EINVALID and say what to do.
func ReadModel(name string, r io.Reader, cb *hark.Codebook) (*Model, error) {
	var m Model
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, hark.WrapError(hark.EINVALID, err, "model %s is not a gzip file", name)
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}
	dec := json.NewDecoder(r)
	if err := dec.Decode(&m); err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "model %s is not a hark model file (JSON): train one with `hark train`", name)
	}
	if m.Schema != ModelSchema {
		return nil, hark.Errorf(hark.EINVALID, "model %s has layout %d; this hark reads layout %d: train it again with `hark train`", name, m.Schema, ModelSchema)
	}
	if cb != nil && m.Codebook != cb.ID {
		return nil, hark.Errorf(hark.EINVALID, "model %s was trained for codebook %q, not %q: train one for this codebook", name, m.Codebook, cb.ID)
	}
	if cb != nil {
		for id := range m.Codes {
			if cb.Code(id) == nil {
				return nil, hark.Errorf(hark.EINVALID, "model %s has code %q, which codebook %s %s does not: train it again for this codebook", name, id, cb.ID, cb.Version)
			}
		}
	}
	if err := m.prepare(); err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "model %s", name)
	}
	return &m, nil
}

// LoadModel reads the model file at path.
func LoadModel(path string, cb *hark.Codebook) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "open model %s", path)
	}
	defer f.Close()
	return ReadModel(path, f, cb)
}

// Write writes the model as JSON.
func (m *Model) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	return enc.Encode(m)
}

// WriteGzip writes the model as gzip-compressed JSON, as hark's own is
// kept; ReadModel reads either.
func (m *Model) WriteGzip(w io.Writer) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	if err := m.Write(zw); err != nil {
		return err
	}
	return zw.Close()
}

// prepare builds the lookup tables from the file's fields.
func (m *Model) prepare() error {
	m.index = newFeatureIndex(len(m.Features))
	m.group = make([]uint8, len(m.Features))
	for i, f := range m.Features {
		m.group[i] = featureGroup(f)
		h := hashString(f)
		k := m.index.slot(h)
		if m.index.pos[k] >= 0 {
			return fmt.Errorf("feature %q appears twice (or two features share a hash)", f)
		}
		m.index.keys[k], m.index.pos[k] = h, int32(i)
	}
	for id, c := range m.Codes {
		if len(c.Feature) != len(c.Weight) {
			return fmt.Errorf("code %s: %d features but %d weights", id, len(c.Feature), len(c.Weight))
		}
		c.dense = make([]float32, len(m.Features))
		for k, f := range c.Feature {
			if f < 0 || int(f) >= len(m.Features) {
				return fmt.Errorf("code %s: feature %d out of range", id, f)
			}
			c.dense[f] = float32(c.Weight[k])
		}
	}
	return nil
}

// probability is the model's probability that a turn with the features
// (positions, as positions returns them, and their values) has the code.
func (c *CodeModel) probability(feats []int32, vals []float32) float64 {
	return sigmoid(c.logit(feats, vals))
}

func (c *CodeModel) logit(feats []int32, vals []float32) float64 {
	z := float32(c.Bias)
	for k, f := range feats {
		z += c.dense[f] * vals[k]
	}
	return float64(z)
}

func sigmoid(z float64) float64 {
	if z < -30 {
		return 0
	}
	if z > 30 {
		return 1
	}
	return 1 / (1 + math.Exp(-z))
}

// FNV-1a, 64 bits.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashString(s string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// turnView is what the features of one turn are made from.
type turnView struct {
	text      string
	prev      string // the turn before, "" for none
	prevRole  hark.Role
	sameSpk   bool     // the turn before is the same speaker's
	rules     []string // the codes the rule tagger gave this turn
	prevRule  []string // and the turn before
	shape     uint16   // the rule tagger's reading of its sentences
	prevShape uint16
}

// shapeNames name the bits of a turn's shape.
var shapeNames = map[uint16]string{
	1 << formStatement: "statement", 1 << formBackchannel: "backchannel", 1 << formOpen: "open", 1 << formClosedWh: "closed-wh",
	1 << formYesNo: "yes-no", 1 << formDeclQ: "statement-asked", 1 << formTagQ: "tag-question", 1 << formWhyNot: "why-not",
	shapeSo: "so", shapeCut: "cut", shapeFirstQ: "first-asks", shapeLastQ: "last-asks",
}

// featureSink receives features as bytes; the slice is only valid during
// the call.
type featureSink func(name []byte)

// words is text's words, lower case, apostrophes made straight, split at
// anything that is not a letter, a digit or an apostrophe inside a word.
func words(text string, dst []string) []string {
	var b []byte
	flush := func() {
		if len(b) > 0 {
			if w := strings.Trim(string(b), "'"); w != "" {
				dst = append(dst, w)
			}
			b = b[:0]
		}
	}
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			switch {
			case 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '\'':
				b = append(b, c)
			case 'A' <= c && c <= 'Z':
				b = append(b, c+'a'-'A')
			default:
				flush()
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		switch {
		case r == '’' || r == '‘':
			b = append(b, '\'')
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b = utf8.AppendRune(b, unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return dst
}

var (
	whWords   = map[string]bool{"what": true, "how": true, "why": true, "where": true, "when": true, "who": true, "which": true, "tell": true}
	auxWords  = map[string]bool{"do": true, "did": true, "does": true, "is": true, "are": true, "was": true, "were": true, "can": true, "could": true, "would": true, "will": true, "have": true, "has": true, "should": true, "shall": true, "may": true, "might": true, "am": true}
	condWords = map[string]bool{"if": true, "unless": true, "until": true, "otherwise": true}
	consWords = map[string]bool{"will": true, "i'll": true, "we'll": true, "they'll": true, "it'll": true, "going": true, "have": true, "must": true, "then": true, "would": true, "could": true}
	stopWords = map[string]bool{"the": true, "a": true, "an": true, "and": true, "to": true, "of": true, "i": true, "you": true, "it": true, "is": true, "that": true, "in": true, "on": true, "for": true, "so": true, "but": true, "um": true, "er": true, "yeah": true, "well": true, "just": true, "with": true, "be": true, "was": true, "my": true, "your": true, "me": true, "we": true, "do": true, "at": true, "this": true, "have": true, "not": true, "he": true, "she": true, "they": true, "what": true, "like": true, "know": true, "are": true}
)

// features calls sink with each feature of the turn (a feature may come
// more than once; the model counts it once).
func (v *turnView) features(sink featureSink, ws, pws []string) {
	var buf []byte
	emit := func(parts ...string) {
		buf = buf[:0]
		for _, p := range parts {
			buf = append(buf, p...)
		}
		sink(buf)
	}
	for i, w := range ws {
		emit("w:", w)
		if i+1 < len(ws) {
			emit("b:", w, " ", ws[i+1])
		}
		if i+2 < len(ws) {
			emit("t:", w, " ", ws[i+1], " ", ws[i+2])
		}
	}
	if len(ws) > 0 {
		emit("first:", ws[0])
		if len(ws) > 1 {
			emit("first2:", ws[0], " ", ws[1])
		}
		switch {
		case whWords[ws[0]]:
			emit("form:wh-first")
		case auxWords[ws[0]]:
			emit("form:aux-first")
		}
	}
	// Letter groups of four across the words, for misheard and misspelt
	// words.
	joined := " " + strings.Join(ws, " ") + " "
	for i := 0; i+4 <= len(joined); {
		if !utf8.RuneStart(joined[i]) {
			i++
			continue
		}
		j, n := i, 0
		for j < len(joined) && n < 4 {
			_, size := utf8.DecodeRuneInString(joined[j:])
			j += size
			n++
		}
		if n == 4 {
			emit("c:", joined[i:j])
		}
		_, size := utf8.DecodeRuneInString(joined[i:])
		i += size
	}
	text := strings.TrimSpace(v.text)
	if strings.HasSuffix(text, "?") {
		emit("form:question-mark")
	}
	if strings.Count(text, "?") > 1 {
		emit("form:questions")
	}
	cond, cons := false, false
	for _, w := range ws {
		if condWords[w] {
			cond = true
		} else if cond && consWords[w] {
			cons = true
		}
	}
	if cons {
		emit("form:condition-consequence")
	} else if cond {
		emit("form:condition")
	}
	switch n := len(ws); {
	case n <= 3:
		emit("len:1-3")
	case n <= 8:
		emit("len:4-8")
	case n <= 20:
		emit("len:9-20")
	default:
		emit("len:21+")
	}
	for _, c := range v.rules {
		emit("rule:", c)
	}
	for bit, name := range shapeNames {
		if v.shape&bit != 0 {
			emit("shape:", name)
		}
		if v.prev != "" && v.prevShape&bit != 0 {
			emit("prevshape:", name)
		}
	}
	switch {
	case v.prev == "":
		emit("prev:none")
	case v.sameSpk:
		emit("prev:same-speaker")
	default:
		emit("prev:", string(v.prevRole))
	}
	if v.prev != "" {
		if strings.HasSuffix(strings.TrimSpace(v.prev), "?") {
			emit("prev:question")
		}
		for _, c := range v.prevRule {
			emit("prevrule:", c)
		}
		for _, w := range pws {
			if !stopWords[w] {
				emit("pw:", w)
			}
		}
		// How much of what the other said comes back: reflections repeat.
		if !v.sameSpk {
			seen := map[string]bool{}
			for _, w := range pws {
				if !stopWords[w] && len(w) > 2 {
					seen[w] = true
				}
			}
			shared := 0
			for _, w := range ws {
				if seen[w] {
					shared++
					delete(seen, w)
				}
			}
			switch {
			case shared == 0:
				emit("echo:0")
			case shared == 1:
				emit("echo:1")
			case shared <= 3:
				emit("echo:2-3")
			default:
				emit("echo:4+")
			}
		}
	}
}

// positions is the turn's features that the model knows, each once, in
// ascending order.
func (m *Model) positions(v *turnView, ws, pws []string, dst []int32) []int32 {
	dst = dst[:0]
	v.features(func(name []byte) {
		h := uint64(fnvOffset)
		for _, c := range name {
			h ^= uint64(c)
			h *= fnvPrime
		}
		if i, ok := m.index.get(h); ok {
			dst = append(dst, i)
		}
	}, ws, pws)
	slices.Sort(dst)
	return slices.Compact(dst)
}

//go:embed model.json.gz
var defaultModel []byte

// DefaultModel returns hark's own model, trained on the project's corpus
// of practice meetings (testdata/practice) for hark's own codebook, if it
// fits cb (the same codebook id, and every code it has in cb).
func DefaultModel(cb *hark.Codebook) (*Model, error) {
	return ReadModel("hark's own model", bytes.NewReader(defaultModel), cb)
}
