package annotate

import (
	"regexp"
	"testing"
	"time"
)

func TestZZSlow(t *testing.T) {
	for _, expr := range []string{
		`(?:(?:ab|cd){1000}){1000}`,
		`(?:ab|cd){1000}`,
		`(?:(?:ab|cd){30}){30}`,
		`(?:(?:(?:ab|cd){10}){10}){10}`,
		`x{1000}y{1000}z{1000}`,
		`(?:a{2}){1000}`,
		`((((((((((a|b)c)d)e)f)g)h)i)j)k){1000}`,
	} {
		start := time.Now()
		_, err := regexp.Compile(expr)
		c := time.Since(start)
		start = time.Now()
		lits, ok := requiredLiterals("(?i)" + expr)
		t.Logf("%s: compile %v err %v; literals %v ok %v n %d", expr, c, err, time.Since(start), ok, len(lits))
	}
}
