package decision

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/target"
)

func pendingRequest() *access.Request {
	return &access.Request{
		ID: "01m8h2vc7v9a4e39t9w0bj74tr", Resource: "prod-readonly", Duration: 90 * time.Minute,
		Requester: "arn:aws:sts::123456789012:assumed-role/Engineer/alice@example.com",
		Reason:    "investigate INC-4711", Status: access.Pending, CreatedAt: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC),
		Target: target.New(target.IAMRoleTrust, target.RoleARN, "arn:aws:iam::123456789012:role/jit-prod-readonly"),
		Ticket: "INC-4711", TicketURL: "https://tracker.example.com/browse/INC-4711",
		Chain: []access.Level{
			{Name: "team lead", Approvers: []string{"carol@example.com"}, MinApprovals: 1},
			{Name: "security", Approvers: []string{"dave@example.com", "frank@example.com"}, MinApprovals: 2},
		},
		Level: 1, Approvals: 1,
	}
}

func formPage(preselect string) string {
	return render(200, page{Title: "Approve access?", Request: summary(pendingRequest()), Form: true, Approver: "dave@example.com", Preselect: preselect, Expires: "2026-11-28 12:00 UTC"}).Body
}

func TestPageShowsLevelQuorumTicket(t *testing.T) {
	body := formPage("approve")
	for _, want := range []string{
		"Level 2 of 2 (security): 1 of 2 approvals",
		`<a href="https://tracker.example.com/browse/INC-4711" target="_blank" rel="noreferrer noopener">INC-4711</a>`,
		"<strong>alice@example.com</strong> asks for <strong>prod-readonly</strong> for <strong>1h30m</strong>",
		"Deciding as <strong>dave@example.com</strong>",
		"You chose <strong>Approve</strong>",
		`class="approve chosen"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if odd := formPage("<b>x</b>"); strings.Contains(odd, " chosen\"") || strings.Contains(odd, "<b>x") || strings.Contains(odd, "You chose") {
		t.Error("an unknown ?decision= is shown or preselects")
	}
}

func TestPageAccessible(t *testing.T) {
	body := formPage("")
	for _, want := range []string{
		`<html lang="en">`,
		`<label for="comment">`, `id="comment"`,
		`aria-describedby="comment-hint"`, `id="comment-hint"`,
		":focus-visible{outline:",
		`name="viewport" content="width=device-width, initial-scale=1"`,
		`<h1>`, `aria-labelledby="req-heading"`, `id="req-heading"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Tap targets: buttons at least 44px tall (3rem = 48px at the 16px
	// root size; the body is larger still).
	m := regexp.MustCompile(`button\{[^}]*min-height:([0-9.]+)rem`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("buttons have no min-height")
	}
	if h, _ := strconv.ParseFloat(m[1], 64); h*16 < 44 {
		t.Errorf("buttons are %.0fpx tall, want at least 44", h*16)
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
	css := formPage("")
	pairs := []struct{ what, fg, bg string }{
		{"body text on page", "#1b1f24", "#f4f5f7"},
		{"body text on card", "#1b1f24", "#ffffff"},
		{"labels (dt, hints) on card", "#57606a", "#ffffff"},
		{"brand on page", "#57606a", "#f4f5f7"},
		{"approve button", "#ffffff", "#1a7f37"},
		{"approve button, hover", "#ffffff", "#116329"},
		{"deny button", "#ffffff", "#cf222e"},
		{"deny button, hover", "#ffffff", "#a40e26"},
		{"links", "#0969da", "#ffffff"},
		{"level badge", "#0a3069", "#ddf4ff"},
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
	// The focus ring must stand out from the page (3:1 for non-text).
	if r := contrast("#0969da", "#f4f5f7"); r < 3 {
		t.Errorf("focus ring contrast %.2f", r)
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
