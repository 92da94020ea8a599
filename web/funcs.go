package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"strconv"
	"strings"

	"github.com/harkworks/hark"
)

func itoa(n int) string { return strconv.Itoa(n) }

func (s *Server) funcs() template.FuncMap {
	return template.FuncMap{
		"clock":     clock,
		"label":     s.label,
		"polarity":  s.polarity,
		"highlight": highlight,
		"pct": func(a, b int) int {
			if b == 0 {
				return 0
			}
			return 100 * a / b
		},
		"json": func(v any) (template.JS, error) {
			b, err := json.Marshal(v)
			return template.JS(b), err
		},
		"mul10": func(x float64) float64 { return x * 10 },
		"ratio": func(x *float64) string {
			if x == nil {
				return "no questions"
			}
			return strconv.FormatFloat(*x, 'f', 2, 64)
		},
		"percent":    func(x float64) string { return strconv.FormatFloat(100*x, 'f', 0, 64) + "%" },
		"rolesource": roleSource,
		"seconds":    func(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) },
		"basename": func(key string) string {
			if i := strings.LastIndex(key, "/"); i >= 0 {
				return key[i+1:]
			}
			return key
		},
	}
}

// codeList returns the codebook's codes in codebook order.
func (s *Server) codeList() []hark.Code {
	if s.cfg.Codebook == nil {
		return nil
	}
	return s.cfg.Codebook.Codes
}

func (s *Server) label(code string) string {
	if c, ok := s.codes[code]; ok && c.Label != "" {
		return c.Label
	}
	return strings.ReplaceAll(code, "_", " ")
}

func (s *Server) polarity(code string) string {
	if c, ok := s.codes[code]; ok && c.Polarity != "" {
		return string(c.Polarity)
	}
	return string(hark.PolarityNeutral)
}

func clock(secs float64) string {
	t := int(secs)
	if t >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", t/3600, t/60%60, t%60)
	}
	return fmt.Sprintf("%d:%02d", t/60, t%60)
}

// highlight marks the evidence spans of the tags that are not rejected.
func highlight(text string, tags []hark.Tag) template.HTML {
	marks := make([]bool, len(text))
	for _, t := range tags {
		if t.Start < 0 || t.End > len(text) || t.Start >= t.End || t.Review == hark.ReviewRejected {
			continue
		}
		for i := t.Start; i < t.End; i++ {
			marks[i] = true
		}
	}
	var b strings.Builder
	in := false
	for i := 0; i < len(text); {
		if marks[i] != in {
			if marks[i] {
				b.WriteString("<mark>")
			} else {
				b.WriteString("</mark>")
			}
			in = marks[i]
		}
		j := i + 1
		for j < len(text) && marks[j] == marks[i] {
			j++
		}
		b.WriteString(template.HTMLEscapeString(text[i:j]))
		i = j
	}
	if in {
		b.WriteString("</mark>")
	}
	return template.HTML(b.String())
}
