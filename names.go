package hark

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameLen is the longest team or account name, in characters.
const MaxNameLen = 64

// InternalAreas are the top-level prefixes of the bucket that hold hark's
// own objects, not recordings: results, codebooks sent with a
// re-annotation, workers' voices, and models. Nothing is uploaded under
// them, and no team is named after one (a team's recordings go under its
// name by default).
var InternalAreas = []string{ResultsPrefix, CodebooksPrefix, VoicesPrefix, "models/"}

// nameChars is what a name may hold besides letters and digits: what
// `hark upload` has always taken in a team's name, which becomes the first
// segment of its recordings' keys.
const nameChars = " ._()+&-"

// CheckName is the one rule for the names of teams and accounts, used
// wherever one is made (`hark team add`, `hark user add`, `hark user
// rename`, `hark upload --team`, the index): letters, digits, spaces and
// . _ ( ) + & - (an account's name may also hold @, for an e-mail address),
// at most MaxNameLen characters, no space at either end, not starting with
// a dot, and a team not named after one of the InternalAreas. kind is
// "team" or "user", and names the thing in the message. It returns
// EINVALID saying what to use instead.
func CheckName(kind, name string) error {
	extra := ""
	if kind == "user" {
		extra = "@"
	}
	if problem := nameProblem(name, extra); problem != "" {
		return Errorf(EINVALID, "%s name %q: %s", kind, name, problem)
	}
	if area := internalArea(name); kind == "team" && area != "" {
		return Errorf(EINVALID, "team name %q is the name of hark's own %s area in the bucket: choose another (e.g. %q)", name, area, name+" team")
	}
	return nil
}

// nameProblem says what is wrong with a name, or "" when nothing is;
// extra are the characters allowed beyond the common ones.
func nameProblem(name, extra string) string {
	allowed := "use letters, digits, spaces and . _ ( ) + & -"
	if extra != "" {
		allowed += " " + strings.Join(strings.Split(extra, ""), " ")
	}
	switch {
	case strings.TrimSpace(name) == "":
		return "it is empty: " + allowed
	case !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !strings.ContainsRune(nameChars+extra, r)
	}):
		return allowed + " only"
	case utf8.RuneCountInString(name) > MaxNameLen:
		return "it is longer than " + strconv.Itoa(MaxNameLen) + " characters"
	case strings.TrimSpace(name) != name:
		return "it starts or ends with a space: leave it out"
	case strings.HasPrefix(name, "."):
		return "it starts with a dot: start it with a letter or a digit"
	}
	return ""
}

// internalArea is the internal area (InternalAreas) named s, in any case,
// or "".
func internalArea(s string) string {
	for _, area := range InternalAreas {
		if strings.EqualFold(s, strings.TrimSuffix(area, "/")) {
			return area
		}
	}
	return ""
}

// CheckKeyPrefix checks a key prefix under which recordings are uploaded
// (`hark upload --prefix`): one or more parts separated by "/", each a
// name as CheckName takes it, not absolute, without backslashes, control
// characters, "..", "." or empty parts, and not inside one of the
// InternalAreas, where hark keeps its own objects and a recording would
// never be seen. It returns EINVALID saying what to use instead.
func CheckKeyPrefix(prefix string) error {
	p := strings.TrimSuffix(prefix, "/")
	hint := `use names separated by /, like "North/2026-12", or leave --prefix out to upload under the team's name`
	switch {
	case p == "":
		return Errorf(EINVALID, "prefix %q is empty: %s", prefix, hint)
	case strings.HasPrefix(p, "/"):
		return Errorf(EINVALID, "prefix %q is absolute: leave out the leading /; %s", prefix, hint)
	case strings.Contains(p, `\`):
		return Errorf(EINVALID, `prefix %q has a backslash: separate its parts with /; %s`, prefix, hint)
	case strings.ContainsFunc(p, unicode.IsControl):
		return Errorf(EINVALID, "prefix %q has a control character: %s", prefix, hint)
	}
	for i, part := range strings.Split(p, "/") {
		switch {
		case part == "":
			return Errorf(EINVALID, "prefix %q has an empty part (//): %s", prefix, hint)
		case part == "." || part == "..":
			return Errorf(EINVALID, "prefix %q has a %q part: a key cannot climb out of its place; %s", prefix, part, hint)
		case i == 0 && internalArea(part) != "":
			return Errorf(EINVALID, "prefix %q is inside %s, where hark keeps its own objects (a recording there is never transcribed): %s", prefix, internalArea(part), hint)
		}
		if problem := nameProblem(part, ""); problem != "" {
			return Errorf(EINVALID, "prefix %q: part %q: %s; %s", prefix, part, problem, hint)
		}
	}
	return nil
}

// MaxReferenceLen is the longest reference (a family's) hark takes.
const MaxReferenceLen = 40

// CheckReference checks a pseudonymous reference such as a family's
// (kind names it in the message): empty, or 1 to MaxReferenceLen letters,
// digits and . _ - / , starting with a letter or digit. It returns EINVALID
// saying what to use instead.
func CheckReference(kind, ref string) error {
	if ref == "" {
		return nil
	}
	ok := len(ref) <= MaxReferenceLen
	for i, r := range ref {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case i > 0 && (r == '.' || r == '_' || r == '-' || r == '/'):
		default:
			ok = false
		}
	}
	if !ok {
		return Errorf(EINVALID, "%s reference %q: use 1 to %d letters, digits and . _ - /, starting with a letter or digit, such as F-2026-0142 (a case number, never a name)", kind, ref, MaxReferenceLen)
	}
	return nil
}
