package untrusted

import (
	"strings"
	"unicode"
)

// Line returns s as one line: every line break, tab and other space
// becomes a single space, control and format characters are removed, and
// the ends are trimmed.
func Line(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case breaks(r) || unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Lines returns s's lines, each cleaned as Line; lines left empty are
// dropped, so blank lines cannot push text apart.
func Lines(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, breaks) {
		if l = Line(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// breaks reports whether r ends a line somewhere: a mail client, a
// terminal or a chat app.
func breaks(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', '\u0085', '\u2028', '\u2029':
		return true
	}
	return false
}
