package main

import (
	"fmt"
	"os"
	"slices"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/annotate"
)

// coderAgreement prints how far AnnoMI's own annotators agree, on the
// therapist utterances that several of them annotated: the F1 of one
// annotator against another (every ordered pair), and of one against the
// majority of the others. Most of the corpus is annotated once, so a
// tagger is scored against one annotator: the first figure is what an
// annotator as good as another would score, the second what the
// annotators' consensus would.
func coderAgreement(path string, codes []string) error {
	f, err := os.Open(path)
	if err != nil {
		return hark.WrapError(hark.ENOTFOUND, err, "cannot read the AnnoMI file; give its path with -data")
	}
	defer f.Close()
	utts, err := annotate.ReadAnnoMIUtterances(f)
	if err != nil {
		return err
	}
	var multi []*annotate.AnnoMIUtterance
	therapist := 0
	convs := map[string]bool{}
	for _, u := range utts {
		if !u.Therapist {
			continue
		}
		therapist++
		if len(u.Votes) > 1 {
			multi = append(multi, u)
			convs[u.Transcript] = true
		}
	}
	fmt.Printf("AnnoMI's annotators against each other: %d of %d therapist utterances (in %d conversations) annotated more than once\n", len(multi), therapist, len(convs))
	fmt.Printf("%-24s %22s %28s\n", "code", "one against another", "one against the others' majority")
	for _, code := range codes {
		var pair, major [3]int // TP, FP, FN
		for _, u := range multi {
			for a, va := range u.Votes {
				got, yes := slices.Contains(va, code), 0
				for b, vb := range u.Votes {
					if b == a {
						continue
					}
					want := slices.Contains(vb, code)
					count(&pair, got, want)
					if want {
						yes++
					}
				}
				count(&major, got, 2*yes > len(u.Votes)-1)
			}
		}
		fmt.Printf("%-24s %22s %28s\n", code, f1(pair), f1(major))
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
