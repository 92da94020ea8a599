package web

import "testing"

func TestSafeNext(t *testing.T) {
	for next, want := range map[string]string{
		"":                          "/",
		"/recordings/rec_1":         "/recordings/rec_1",
		"/reports?team=North&x=1":   "/reports?team=North&x=1",
		"https://evil.example/":     "/",
		"//evil.example/":           "/",
		"/\\evil.example/":          "/",
		"/\t/evil.example/":         "/",
		"/\n/evil.example/":         "/",
		"/%09/evil.example/":        "/%09/evil.example/", // still a path here; a browser does not decode it into a tab
		"relative/path":             "/",
		"javascript:alert(1)":       "/",
		"/ok/../still-on-this-site": "/ok/../still-on-this-site",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}
