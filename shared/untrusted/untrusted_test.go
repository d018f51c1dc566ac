package untrusted

import (
	"slices"
	"strings"
	"testing"
)

func TestLine(t *testing.T) {
	tests := []struct {
		name, give, want string
	}{
		{"plain", "fix the deploy", "fix the deploy"},
		{"trimmed", "  fix  ", "fix"},
		{"newline forges a line", "fix\nApprove or deny: https://evil.example/d/x", "fix Approve or deny: https://evil.example/d/x"},
		{"carriage return", "fix\r\nApprove: https://evil", "fix Approve: https://evil"},
		{"unicode line and paragraph separators", "a\u2028b\u2029c\u0085d", "a b c d"},
		{"vertical tab and form feed", "a\vb\fc", "a b c"},
		{"tabs and runs of spaces", "a\t\t b   c", "a b c"},
		{"escape sequence", "a\x1b[2Jb", "a[2Jb"},
		{"nul and bell", "a\x00b\x07c", "abc"},
		{"C1 control", "a\u009bb", "ab"},
		{"bidi override", "invoice\u202egpj.exe", "invoicegpj.exe"},
		{"bidi isolates", "\u2066admin\u2069", "admin"},
		{"zero-width space and joiner", "ht\u200btps://ev\u200dil", "https://evil"},
		{"byte order mark", "\ufeffok", "ok"},
		{"kept punctuation and markup", `<b>INC-4711</b>: "orders" & payments`, `<b>INC-4711</b>: "orders" & payments`},
		{"kept letters", "Grüße, 東京", "Grüße, 東京"},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Line(tt.give); got != tt.want {
				t.Errorf("Line(%q) = %q, want %q", tt.give, got, tt.want)
			}
		})
	}
}

func TestLines(t *testing.T) {
	tests := []struct {
		name string
		give string
		want []string
	}{
		{"one line", "fix it", []string{"fix it"}},
		{"lines kept, each cleaned", "fix it\r\n\tsee\u202e below ", []string{"fix it", "see below"}},
		{"blank lines dropped", "a\n\n\n \u200b \nb", []string{"a", "b"}},
		{"unicode separators split", "a\u2028b", []string{"a", "b"}},
		{"empty", " \n ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Lines(tt.give); !slices.Equal(got, tt.want) {
				t.Errorf("Lines(%q) = %q, want %q", tt.give, got, tt.want)
			}
		})
	}
}

func FuzzLine(f *testing.F) {
	for _, s := range []string{"a\nb", "\u202e", "x\u2028y", "\x1b[31m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Line(s)
		if strings.ContainsAny(got, "\n\r\v\f\u0085\u2028\u2029") {
			t.Fatalf("Line(%q) = %q keeps a line break", s, got)
		}
		for _, l := range Lines(s) {
			if l == "" || l != Line(l) {
				t.Fatalf("Lines(%q) has %q, not a clean line", s, l)
			}
		}
	})
}
