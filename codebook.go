package hark

// Polarity says whether a code marks good practice, a concern, or neither.
type Polarity string

// The polarities of a code.
const (
	PolarityStrength Polarity = "strength"
	PolarityConcern  Polarity = "concern"
	PolarityNeutral  Polarity = "neutral"
)

// Codebook is a versioned set of practice codes. Code ids are a stable API:
// reports, reviews and exports refer to them.
type Codebook struct {
	ID          string `json:"id" yaml:"id"`
	Version     string `json:"version" yaml:"version"`
	Description string `json:"description,omitempty" yaml:"description"`
	Codes       []Code `json:"codes" yaml:"codes"`
}

// Code is one practice marker a tagger looks for.
type Code struct {
	ID         string `json:"id" yaml:"id"`
	Label      string `json:"label" yaml:"label"`
	Definition string `json:"definition" yaml:"definition"`
	// Boundaries is the coding guide's word on where the code ends and
	// its neighbours begin, for coders and taggers.
	Boundaries string   `json:"boundaries,omitempty" yaml:"boundaries"`
	Role       string   `json:"role" yaml:"role"` // worker, parent or any
	Polarity   Polarity `json:"polarity" yaml:"polarity"`
	Cues       []string `json:"cues,omitempty" yaml:"cues"`
	// RuledOutBy are codes whose tag on a turn rules this code out of the
	// same turn: a turn that sets the parent's view aside is not a
	// reflection of it, however much of their words it repeats.
	RuledOutBy []string `json:"ruled_out_by,omitempty" yaml:"ruled_out_by"`
	// OutweighedBy are codes whose tag on a turn drops this code's rule
	// tag from it unless a trained model is sure of this code (tagging
	// with rules+model): a turn that shares a concern or sets an agenda is
	// doing that, and the words it gives back are not enough to make it a
	// reflection too.
	OutweighedBy []string `json:"outweighed_by,omitempty" yaml:"outweighed_by"`
	Examples     Examples `json:"examples" yaml:"examples"`
}

// Examples are utterances that must and must not carry a code. They are
// tests: every tagger is checked against them.
type Examples struct {
	Positive []string `json:"positive,omitempty" yaml:"positive"`
	Negative []string `json:"negative,omitempty" yaml:"negative"`
}

// Code returns the code with the given id, or nil.
func (cb *Codebook) Code(id string) *Code {
	for i := range cb.Codes {
		if cb.Codes[i].ID == id {
			return &cb.Codes[i]
		}
	}
	return nil
}

// AppliesTo reports whether the code applies to a speaker with role r.
func (c *Code) AppliesTo(r Role) bool {
	return c.Role == "" || c.Role == "any" || Role(c.Role) == r
}
