package auditui

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jitaccess/jit/shared/store/storetest"
)

// searchPage is a search page with results, a next page and an error, so
// that every part of the template is on it.
func searchPage(t *testing.T) string {
	t.Helper()
	f := storetest.New()
	seed(f)
	h := newHandler(f)
	resp := get(h, "/audit", "/audit", []string{storeSession(t, f, frank)}, map[string]string{"limit": "1"}, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("search: %d", resp.StatusCode)
	}
	return resp.Body
}

func TestPageAccessible(t *testing.T) {
	body := searchPage(t)
	for _, want := range []string{
		`<html lang="en">`,
		`name="viewport" content="width=device-width, initial-scale=1"`,
		":focus-visible{outline:",
		`<h1>`, `aria-labelledby="search-heading"`, `id="search-heading"`,
		`aria-labelledby="results-heading"`, `id="results-heading"`,
		// The wide table scrolls inside a named, focusable region, so the
		// page itself never scrolls sideways and keyboards can scroll it.
		`class="scroll" role="region" aria-labelledby="results-heading" tabindex="0"`,
		`<th scope="col">Time</th>`, `<caption>`,
		`aria-describedby="f-from-hint"`, `id="f-from-hint"`,
		`<nav class="pager" aria-label="Results">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Every field has a label pointing at it.
	for _, ff := range formFields {
		for _, want := range []string{`<label for="f-` + ff.name + `">`, `id="f-` + ff.name + `" name="` + ff.name + `"`} {
			if !strings.Contains(body, want) {
				t.Errorf("field %s: page lacks %q", ff.name, want)
			}
		}
	}
	// Tap targets: buttons and button-links at least 44px tall, inputs too.
	for _, sel := range []string{`button,\.button\{[^}]*min-height:([0-9.]+)rem`, `input,select\{[^}]*min-height:([0-9.]+)rem`} {
		m := regexp.MustCompile(sel).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("%s: no min-height", sel)
		}
		if h, _ := strconv.ParseFloat(m[1], 64); h*16 < 44 {
			t.Errorf("%s: %.0fpx tall, want at least 44", sel, h*16)
		}
	}
	// No script of any kind, and the CSP stays exactly as strict.
	if strings.Contains(strings.ToLower(body), "<script") || regexp.MustCompile(`\son[a-z]+=`).MatchString(body) {
		t.Error("page carries script")
	}
	csp := render(200, page{Title: "x"}).Headers["Content-Security-Policy"]
	if csp != "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'" {
		t.Errorf("CSP = %q", csp)
	}
}

// TestPageContrast checks every text/background pair the stylesheet uses
// against WCAG AA (4.5:1 for normal text).
func TestPageContrast(t *testing.T) {
	css := searchPage(t)
	pairs := []struct{ what, fg, bg string }{
		{"body text on page", "#1b1f24", "#f4f5f7"},
		{"body text on card", "#1b1f24", "#ffffff"},
		{"labels, hints on card", "#57606a", "#ffffff"},
		{"brand on page", "#57606a", "#f4f5f7"},
		{"field errors", "#a40e26", "#ffffff"},
		{"buttons", "#ffffff", "#0969da"},
		{"buttons, hover", "#ffffff", "#0550ae"},
		{"links, secondary buttons", "#0969da", "#ffffff"},
		{"event type badge", "#0a3069", "#ddf4ff"},
		{"code", "#1b1f24", "#eaeef2"},
	}
	for _, p := range pairs {
		for _, c := range []string{p.fg, p.bg} {
			if c != "#ffffff" && !strings.Contains(css, c) {
				t.Errorf("%s: %s is no longer in the stylesheet; update this table", p.what, c)
			}
		}
		if r := contrast(p.fg, p.bg); r < 4.5 {
			t.Errorf("%s: %s on %s has contrast %.2f, want at least 4.5", p.what, p.fg, p.bg, r)
		}
	}
	// Field borders and the focus ring must stand out (3:1 for non-text).
	for _, c := range []string{"#6e7781", "#0969da"} {
		if r := contrast(c, "#ffffff"); r < 3 {
			t.Errorf("%s on white: contrast %.2f", c, r)
		}
	}
}

func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(hex string) float64 {
	var r, g, b int
	if _, err := fmt.Sscanf(hex, "#%02x%02x%02x", &r, &g, &b); err != nil {
		panic(err)
	}
	lin := func(c int) float64 {
		v := float64(c) / 255
		if v <= 0.03928 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}
