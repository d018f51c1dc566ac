package link

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestNewParseHash(t *testing.T) {
	tok, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok.Reveal()) != 43 {
		t.Fatalf("token length = %d, want 43", len(tok.Reveal()))
	}
	got, err := Parse(tok.Reveal())
	if err != nil || got != tok {
		t.Fatalf("Parse(New()) = %v, %v", got, err)
	}
	if h := tok.Hash(); len(h) != 64 || strings.Contains(h, tok.Reveal()) {
		t.Fatalf("Hash = %q", h)
	}
	other, _ := New(nil)
	if other.Hash() == tok.Hash() {
		t.Fatal("two tokens share a hash")
	}
}

func TestParseRejects(t *testing.T) {
	valid, _ := New(bytes.NewReader(bytes.Repeat([]byte{7}, 32)))
	tests := []struct {
		name string
		give string
	}{
		{"empty", ""},
		{"short", valid.Reveal()[:42]},
		{"long", valid.Reveal() + "A"},
		{"bad alphabet", "+" + valid.Reveal()[1:]},
		{"padding", valid.Reveal()[:42] + "="},
		{"non canonical last char", valid.Reveal()[:42] + "x"},
		{"path traversal", "../../../../../../../../../../etc/passwd.."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse(tt.give); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%q) err = %v, want ErrMalformed", tt.give, err)
			}
		})
	}
}

func TestTokenNeverPrinted(t *testing.T) {
	tok, _ := New(nil)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("sent", "token", tok)
	if s := buf.String() + fmt.Sprint(tok) + fmt.Sprintf("%v %s", tok, tok); strings.Contains(s, tok.Reveal()) {
		t.Fatalf("token leaked: %s", s)
	}
}

func FuzzParse(f *testing.F) {
	tok, _ := New(nil)
	f.Add(tok.Reveal())
	f.Add("")
	f.Add(strings.Repeat("A", 43))
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse(s)
		if err != nil {
			return
		}
		if got.Reveal() != s || len(got.Hash()) != 64 {
			t.Fatalf("accepted %q as %q", s, got.Reveal())
		}
	})
}
