package hark

import (
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	tests := []struct {
		kind, name string
		ok         bool
		says       string // part of the message when refused
	}{
		{"team", "North", true, ""},
		{"team", "Team A (east) + B & C_1.2-3", true, ""},
		{"team", "Équipe Nord", true, ""},
		{"team", "<b>North</b>", false, "letters, digits"},
		{"team", `North"`, false, "letters, digits"},
		{"team", "North/South", false, "letters, digits"},
		{"team", "sam@council.example", false, "letters, digits"},
		{"user", "sam@council.example", true, ""},
		{"user", "<script>", false, "@ only"},
		{"team", "", false, "empty"},
		{"team", "   ", false, "empty"},
		{"team", " North", false, "space"},
		{"team", "..", false, "dot"},
		{"team", ".hidden", false, "dot"},
		{"team", "results", false, "results/"},
		{"team", "Codebooks", false, "codebooks/"},
		{"team", "voices", false, "voices/"},
		{"team", "models", false, "models/"},
		{"user", "results", true, ""}, // an account is no key
		{"team", strings.Repeat("n", MaxNameLen), true, ""},
		{"team", strings.Repeat("n", MaxNameLen+1), false, "longer"},
		{"team", "tab\there", false, "letters"},
		{"team", "bad\xffutf8", false, "letters"},
	}
	for _, tt := range tests {
		err := CheckName(tt.kind, tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("CheckName(%s, %q) = %v, want ok %v", tt.kind, tt.name, err, tt.ok)
			continue
		}
		if err != nil && (ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), tt.says)) {
			t.Errorf("CheckName(%s, %q) = %v, want EINVALID saying %q", tt.kind, tt.name, err, tt.says)
		}
	}
}

func TestCheckKeyPrefix(t *testing.T) {
	tests := []struct {
		prefix string
		ok     bool
		says   string
	}{
		{"North", true, ""},
		{"North/2026-12/", true, ""},
		{"North/results", true, ""}, // only the top level is hark's
		{"results", false, "results/"},
		{"results/", false, "results/"},
		{"Results/x", false, "results/"},
		{"codebooks/mine", false, "codebooks/"},
		{"voices", false, "voices/"},
		{"models", false, "models/"},
		{"../North", false, `".."`},
		{"North/../results", false, `".."`},
		{"./North", false, `"."`},
		{"/North", false, "absolute"},
		{`North\2026`, false, "backslash"},
		{"North//2026", false, "empty part"},
		{"", false, "empty"},
		{"/", false, "empty"},
		{"North\n2026", false, "control"},
		{"North/<b>", false, "letters"},
		{"North/.hidden", false, "dot"},
	}
	for _, tt := range tests {
		err := CheckKeyPrefix(tt.prefix)
		if (err == nil) != tt.ok {
			t.Errorf("CheckKeyPrefix(%q) = %v, want ok %v", tt.prefix, err, tt.ok)
			continue
		}
		if err != nil && (ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), tt.says) || !strings.Contains(err.Error(), "leave --prefix out")) {
			t.Errorf("CheckKeyPrefix(%q) = %v, want EINVALID saying %q and what to use", tt.prefix, err, tt.says)
		}
	}
}

func TestCheckReference(t *testing.T) {
	for ref, ok := range map[string]bool{"": true, "F-2026-0142": true, "case/77.b_2": true, "-x": false, "Jo Smith": false,
		"a<b>": false, strings.Repeat("a", MaxReferenceLen+1): false, "é1": false} {
		if err := CheckReference("family", ref); (err == nil) != ok || err != nil && ErrorCode(err) != EINVALID {
			t.Errorf("%q: %v, want ok %v", ref, err, ok)
		}
	}
}
