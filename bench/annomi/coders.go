package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/harkworks/hark"
)

// codeOf says, per code of the mapping (annotate.ReadAnnoMI's), whether
// one annotator's row applies it.
var codeOf = []struct {
	code string
	on   func(field func(string) string) bool
}{
	{"reflective_listening", func(f func(string) string) bool { return f("reflection_exists") == "True" }},
	{"open_question", func(f func(string) string) bool { return f("question_subtype") == "open" }},
	{"directive", func(f func(string) string) bool { return f("therapist_input_subtype") == "advice" }},
	{"collaborative_planning", func(f func(string) string) bool {
		s := f("therapist_input_subtype")
		return s == "negotiation" || s == "options"
	}},
}

// coderAgreement prints how far AnnoMI's own annotators agree, on the
// therapist utterances that several of them annotated: the F1 of one
// annotator against another (every ordered pair), and of one against the
// majority of the others. Most of the corpus is annotated once, so a
// tagger is scored against one annotator: the first figure is what an
// annotator as good as another would score, the second what the
// annotators' consensus would.
func coderAgreement(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return hark.WrapError(hark.ENOTFOUND, err, "cannot read the AnnoMI file; give its path with -data")
	}
	defer f.Close()
	cr := csv.NewReader(f)
	header, err := cr.Read()
	if err != nil {
		return hark.WrapError(hark.EINVALID, err, "AnnoMI CSV: no header row")
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, n := range []string{"transcript_id", "utterance_id", "interlocutor", "reflection_exists", "question_subtype", "therapist_input_subtype"} {
		if _, ok := col[n]; !ok {
			return hark.Errorf(hark.EINVALID, "AnnoMI CSV: no %q column", n)
		}
	}
	// Per therapist utterance, each annotator's row: which codes it applies.
	votes := map[string][][]bool{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return hark.WrapError(hark.EINVALID, err, "AnnoMI CSV")
		}
		field := func(n string) string { return rec[col[n]] }
		if field("interlocutor") != "therapist" {
			continue
		}
		row := make([]bool, len(codeOf))
		for i, c := range codeOf {
			row[i] = c.on(field)
		}
		k := field("transcript_id") + "/" + field("utterance_id")
		votes[k] = append(votes[k], row)
	}
	var multi []string
	convs := map[string]bool{}
	for k, v := range votes {
		if len(v) > 1 {
			multi = append(multi, k)
			convs[strings.SplitN(k, "/", 2)[0]] = true
		}
	}
	sort.Strings(multi)
	fmt.Printf("AnnoMI's annotators against each other: %d of %d therapist utterances (in %d conversations) annotated more than once\n", len(multi), len(votes), len(convs))
	fmt.Printf("%-24s %22s %28s\n", "code", "one against another", "one against the others' majority")
	for i, c := range codeOf {
		var pair, major [3]int // TP, FP, FN
		for _, k := range multi {
			v := votes[k]
			for a := range v {
				yes := 0
				for b := range v {
					if b == a {
						continue
					}
					count(&pair, v[a][i], v[b][i])
					if v[b][i] {
						yes++
					}
				}
				count(&major, v[a][i], 2*yes > len(v)-1)
			}
		}
		fmt.Printf("%-24s %22s %28s\n", c.code, f1(pair), f1(major))
	}
	return nil
}

func count(c *[3]int, got, want bool) {
	switch {
	case got && want:
		c[0]++
	case got:
		c[1]++
	case want:
		c[2]++
	}
}

func f1(c [3]int) string {
	if c[0] == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", 2*float64(c[0])/float64(2*c[0]+c[1]+c[2]))
}
