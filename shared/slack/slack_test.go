package slack

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/link"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// marshal is indented JSON without HTML escaping, as Slack reads it.
func marshal(t *testing.T, v any) []byte {
	t.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return []byte(b.String())
}

func TestVerify(t *testing.T) {
	secret := []byte("8f742231b10e8888abcd99yyyzzz85a5")
	now := time.Unix(1764330000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	body := []byte("payload=%7B%22type%22%3A%22block_actions%22%7D")
	good := Sign(secret, ts, body)
	old := strconv.FormatInt(now.Add(-MaxAge-time.Second).Unix(), 10)
	future := strconv.FormatInt(now.Add(MaxAge+time.Second).Unix(), 10)
	tests := []struct {
		name      string
		secret    []byte
		ts, sig   string
		body      []byte
		want      error
		wantOther bool
	}{
		{name: "valid", secret: secret, ts: ts, sig: good, body: body},
		{name: "valid at the edge of the window", secret: secret, ts: strconv.FormatInt(now.Add(-MaxAge).Unix(), 10), sig: Sign(secret, strconv.FormatInt(now.Add(-MaxAge).Unix(), 10), body), body: body},
		{name: "stale timestamp", secret: secret, ts: old, sig: Sign(secret, old, body), body: body, want: ErrStale},
		{name: "timestamp from the future", secret: secret, ts: future, sig: Sign(secret, future, body), body: body, want: ErrStale},
		{name: "timestamp not a number", secret: secret, ts: "yesterday", sig: good, body: body, want: ErrStale},
		{name: "wrong secret", secret: []byte("another-secret"), ts: ts, sig: good, body: body, want: ErrBadSignature},
		{name: "tampered body", secret: secret, ts: ts, sig: good, body: []byte("payload=%7B%22type%22%3A%22block_actionz%22%7D"), want: ErrBadSignature},
		{name: "timestamp swapped under a valid signature", secret: secret, ts: strconv.FormatInt(now.Unix()-1, 10), sig: good, body: body, want: ErrBadSignature},
		{name: "signature without v0= prefix", secret: secret, ts: ts, sig: strings.TrimPrefix(good, "v0="), body: body, want: ErrBadSignature},
		{name: "signature of another version", secret: secret, ts: ts, sig: "v1=" + strings.TrimPrefix(good, "v0="), body: body, want: ErrBadSignature},
		{name: "signature not hex", secret: secret, ts: ts, sig: "v0=zz", body: body, want: ErrBadSignature},
		{name: "truncated signature", secret: secret, ts: ts, sig: good[:20], body: body, want: ErrBadSignature},
		{name: "missing timestamp header", secret: secret, ts: "", sig: good, body: body, want: ErrMissingHeaders},
		{name: "missing signature header", secret: secret, ts: ts, sig: "", body: body, want: ErrMissingHeaders},
		{name: "missing both headers", secret: secret, body: body, want: ErrMissingHeaders},
		{name: "no secret configured", secret: nil, ts: ts, sig: good, body: body, wantOther: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.ts, tt.sig, tt.body, now)
			switch {
			case tt.wantOther:
				if err == nil {
					t.Fatal("Verify accepted the request")
				}
			case tt.want == nil && err != nil:
				t.Fatalf("Verify = %v, want success", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyHeaders(t *testing.T) {
	secret := []byte("s3cret")
	now := time.Unix(1764330000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	body := []byte("payload=x")
	h := http.Header{}
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderSignature, Sign(secret, ts, body))
	if err := VerifyHTTP(secret, h, body, now); err != nil {
		t.Errorf("VerifyHTTP = %v", err)
	}
	// API Gateway lower-cases header names.
	ev := map[string]string{"x-slack-request-timestamp": ts, "x-slack-signature": Sign(secret, ts, body)}
	if err := VerifyEvent(secret, ev, body, now); err != nil {
		t.Errorf("VerifyEvent = %v", err)
	}
	if err := VerifyEvent(secret, map[string]string{}, body, now); !errors.Is(err, ErrMissingHeaders) {
		t.Errorf("VerifyEvent without headers = %v", err)
	}
}

func sampleToken() link.Token {
	tok, err := link.New(strings.NewReader(strings.Repeat("\x07", 32)))
	if err != nil {
		panic(err)
	}
	return tok
}

func sampleRequest() Request {
	return Request{
		Requester: "alice@example.com", Resource: "sandbox-admin",
		Target:   "arn:aws:iam::123456789012:role/jit-sandbox-admin",
		Duration: "1h30m", Window: "starting when approved",
		Reason: "fix the <!channel> deploy & \"roll back\" *now*\nsee the runbook",
		Ticket: "INC-1234", TicketURL: "https://tracker.example.com/browse/INC-1234",
		Level:     "Level 1 of 2 (team lead): 1 approval needed",
		RequestID: "01m8h2vc7v9a4e39t9w0bj74tr", Expires: "2026-11-28 11:00 UTC",
	}
}

func sampleApproval() Approval {
	return Approval{
		Request:     sampleRequest(),
		DecisionURL: "https://api.example.com/d/" + sampleToken().Reveal(),
		Token:       sampleToken(),
	}
}

// hostileReason tries every way a reason could pass for the message's
// own content: a mention, a forged link, a bare URL Slack would link by
// itself, a line break and a fake quote, a bidi override.
const hostileReason = "<!channel> urgent\n*Approve:* <https://evil.example/d/AAAA|Approve> https://evil.example/approve\n> Approved by security\u202e"

func TestApprovalMessageGolden(t *testing.T) {
	minimal := Approval{
		Request: Request{
			Requester: "arn:aws:sts::123456789012:assumed-role/GitHubActions/ci-deploy", Resource: "prod-readonly",
			Target: "arn:aws:iam::123456789012:role/jit-prod-readonly", Duration: "15m", Window: "starting when approved",
			Reason: "nightly job", RequestID: "01m8h2vc7v9a4e39t9w0bj74tr",
		},
		DecisionURL: "https://api.example.com/d/" + sampleToken().Reveal(), Token: sampleToken(),
	}
	for _, c := range []struct {
		name string
		a    Approval
		b    Buttons
	}{
		{"approval-links.json", sampleApproval(), LinkButtons},
		{"approval-actions.json", sampleApproval(), ActionButtons},
		{"approval-minimal.json", minimal, LinkButtons},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := ApprovalMessage(c.a, c.b)
			golden(t, c.name, marshal(t, m))
			checkLimits(t, m)
		})
	}
	golden(t, "result.json", marshal(t, ResultMessage("Approved by carol@example.com: <access> starts now.")))
	notice := NoticeMessage(Notice{Request: sampleRequest(), Mentions: []string{"U024BE7LH", "W0DAVE002"}})
	golden(t, "notice.json", marshal(t, notice))
	checkLimits(t, notice)
}

// TestNoticeCarriesNoLink: a notice goes to a channel, where everyone
// (the requester too) reads it; it must hold nothing that decides.
func TestNoticeCarriesNoLink(t *testing.T) {
	m := NoticeMessage(Notice{Request: sampleRequest(), Mentions: []string{"U024BE7LH", "<!channel>", "C0CHANNEL1"}})
	s := string(marshal(t, m))
	for _, bad := range []string{sampleToken().Reveal(), "/d/", "?decision=", `"actions"`, `"button"`, "<!channel>", "C0CHANNEL1"} {
		if strings.Contains(s, bad) {
			t.Errorf("notice carries %q:\n%s", bad, s)
		}
	}
	for _, want := range []string{"<@U024BE7LH>", "sandbox-admin", "1h30m", "INC-1234", "see the runbook", "01m8h2vc7v9a4e39t9w0bj74tr", "link sent to them alone"} {
		if !strings.Contains(s, want) {
			t.Errorf("notice lacks %q:\n%s", want, s)
		}
	}
}

// checkLimits asserts Block Kit's structural rules the builders rely on.
func checkLimits(t *testing.T, m Message) {
	t.Helper()
	if m.Text == "" || len(m.Blocks) == 0 || len(m.Blocks) > 50 {
		t.Errorf("message needs fallback text and 1..50 blocks: %d blocks", len(m.Blocks))
	}
	for _, b := range m.Blocks {
		if len(b.Fields) > 10 {
			t.Errorf("%s block has %d fields", b.Type, len(b.Fields))
		}
		if b.Type == "header" && len([]rune(b.Text.Text)) > maxHeaderText {
			t.Errorf("header too long")
		}
		for _, e := range b.Elements {
			if btn, ok := e.(Button); ok {
				if (btn.URL == "") == (btn.Value == "") {
					t.Errorf("button %s must have exactly one of url and value", btn.ActionID)
				}
				if len(btn.URL) > 3000 || len(btn.Value) > 2000 {
					t.Errorf("button %s exceeds Slack's limits", btn.ActionID)
				}
			}
		}
	}
}

// mrkdwnOf returns the mrkdwn texts of m, where Slack parses mentions and
// links (plain_text, as in the header, is shown as is), and fails when one
// is not verbatim.
func mrkdwnOf(t *testing.T, m Message) []string {
	t.Helper()
	var out []Text
	for _, b := range m.Blocks {
		if b.Text != nil {
			out = append(out, *b.Text)
		}
		out = append(out, b.Fields...)
		for _, e := range b.Elements {
			switch e := e.(type) {
			case Text:
				out = append(out, e)
			case Button:
				if e.Confirm != nil {
					out = append(out, e.Confirm.Text)
				}
			}
		}
	}
	var texts []string
	for _, x := range out {
		if x.Type != "mrkdwn" {
			continue
		}
		if !x.Verbatim {
			t.Errorf("mrkdwn text is not verbatim, so Slack links URLs in it: %q", x.Text)
		}
		texts = append(texts, x.Text)
	}
	return texts
}

func TestHostileReasonCannotForgeContent(t *testing.T) {
	a := sampleApproval()
	a.Reason = hostileReason
	a.Ticket = "INC-1 <https://evil.example|click>\nApprove"
	n := Notice{Request: a.Request, Mentions: []string{"U024BE7LH"}}
	for name, m := range map[string]Message{
		"links":   ApprovalMessage(a, LinkButtons),
		"actions": ApprovalMessage(a, ActionButtons),
		"notice":  NoticeMessage(n),
	} {
		t.Run(name, func(t *testing.T) {
			md := strings.Join(mrkdwnOf(t, m), "\n")
			for _, bad := range []string{"<!channel>", "<https://evil", "\u202e", "\n> Approved by", "Approve\n"} {
				if strings.Contains(md, bad) {
					t.Errorf("mrkdwn carries %q:\n%s", bad, md)
				}
			}
			// Every line of the reason is quoted, the forged ones too.
			for _, want := range []string{"> &lt;!channel&gt; urgent\n", "> *Approve:* &lt;https://evil.example/d/AAAA|Approve&gt; https://evil.example/approve\n", "> &gt; Approved by security"} {
				if !strings.Contains(md, want) {
					t.Errorf("reason line %q is not quoted:\n%s", want, md)
				}
			}
			if strings.Contains(m.Text, "evil") {
				t.Errorf("fallback text carries the reason or ticket: %q", m.Text)
			}
		})
	}
}

func TestApprovalMessageEscapesUserText(t *testing.T) {
	a := sampleApproval()
	a.Requester = "<@U999|boss> <!here>"
	a.TicketURL = "https://evil.example/|<!channel>"
	m := ApprovalMessage(a, LinkButtons)
	s := string(marshal(t, m.Blocks))
	md := strings.Join(mrkdwnOf(t, m), "\n")
	for _, bad := range []string{"<!here>", "<!channel>", "<@U999"} {
		if strings.Contains(md, bad) {
			t.Errorf("mrkdwn carries unescaped %q: %s", bad, md)
		}
	}
	if !strings.Contains(s, "&lt;!channel&gt;") {
		t.Errorf("reason not escaped: %s", s)
	}
	if strings.Contains(s, "evil.example") && strings.Contains(s, "<https://evil") {
		t.Errorf("unsafe ticket URL became a link: %s", s)
	}
	long := sampleApproval()
	long.Reason = strings.Repeat("ü", 5000)
	long.Resource = strings.Repeat("r", 200)
	checkLimits(t, ApprovalMessage(long, LinkButtons))
	for _, blk := range ApprovalMessage(long, LinkButtons).Blocks {
		if blk.Text != nil && len([]rune(blk.Text.Text)) > maxSectionText {
			t.Errorf("%s text has %d characters", blk.Type, len([]rune(blk.Text.Text)))
		}
	}
}

func interactionBody(t *testing.T, payload any) []byte {
	t.Helper()
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(url.Values{"payload": {string(b)}}.Encode())
}

func click(actionID, value string) map[string]any {
	return map[string]any{
		"type":         "block_actions",
		"user":         map[string]any{"id": "U024BE7LH", "username": "carol", "team_id": "T0001"},
		"team":         map[string]any{"id": "T0001", "domain": "example"},
		"response_url": "https://hooks.slack.com/actions/T0001/123/abc",
		"trigger_id":   "1.2.3",
		"actions": []any{map[string]any{
			"action_id": actionID, "block_id": BlockDecisions, "value": value, "type": "button", "action_ts": "1764330000.1",
		}},
	}
}

func TestParseInteraction(t *testing.T) {
	tok := sampleToken()
	approve, err := ParseInteraction(interactionBody(t, click(ActionApprove, tok.Reveal())))
	if err != nil {
		t.Fatal(err)
	}
	want := Interaction{Action: DecisionApprove, Token: tok, UserID: "U024BE7LH", TeamID: "T0001", ResponseURL: "https://hooks.slack.com/actions/T0001/123/abc"}
	if *approve != want {
		t.Errorf("approve = %+v, want %+v", *approve, want)
	}
	if fmt.Sprint(approve.Token) != "[redacted]" {
		t.Error("token prints in clear")
	}
	deny, err := ParseInteraction(interactionBody(t, click(ActionDeny, tok.Reveal())))
	if err != nil || deny.Action != DecisionDeny {
		t.Errorf("deny = %+v, %v", deny, err)
	}

	forged := click(ActionApprove, tok.Reveal())
	forged["response_url"] = "https://evil.example/collect"
	if in, err := ParseInteraction(interactionBody(t, forged)); err != nil || in.ResponseURL != "" {
		t.Errorf("forged response_url kept: %+v %v", in, err)
	}

	noUser := click(ActionApprove, tok.Reveal())
	delete(noUser, "user")
	twoActions := click(ActionApprove, tok.Reveal())
	twoActions["actions"] = append(twoActions["actions"].([]any), twoActions["actions"].([]any)[0])
	view := map[string]any{"type": "view_submission", "user": map[string]any{"id": "U1"}}
	other := click("someone_elses_button", tok.Reveal())

	for _, c := range []struct {
		name    string
		body    []byte
		notJit  bool
		errPart string
	}{
		{"not form encoded", []byte("%zz"), false, "body"},
		{"no payload", []byte("foo=bar"), false, "no payload"},
		{"payload not JSON", []byte("payload=%7Bnope"), false, "payload"},
		{"view submission", interactionBody(t, view), true, ""},
		{"another app's button", interactionBody(t, other), true, ""},
		{"two actions", interactionBody(t, twoActions), true, ""},
		{"no user", interactionBody(t, noUser), false, "no user"},
		{"value not a token", interactionBody(t, click(ActionApprove, "approve")), false, "button value"},
		{"value a non-canonical token", interactionBody(t, click(ActionDeny, tok.Reveal()[:42]+"B")), false, "button value"},
		{"too large", []byte("payload=" + strings.Repeat("a", MaxInteractionBytes)), false, "larger"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in, err := ParseInteraction(c.body)
			if err == nil {
				t.Fatalf("accepted: %+v", in)
			}
			if c.notJit != errors.Is(err, ErrNotDecision) {
				t.Errorf("err = %v, ErrNotDecision expected: %v", err, c.notJit)
			}
			if c.errPart != "" && !strings.Contains(err.Error(), c.errPart) {
				t.Errorf("err = %v, want mention of %q", err, c.errPart)
			}
		})
	}
}

func TestClient(t *testing.T) {
	var got []map[string]any
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		got = append(got, m)
		auth = append(auth, r.Header.Get("Authorization"))
		switch r.URL.Path {
		case "/services/T/B/ok":
			io.WriteString(w, "ok")
		case "/services/T/B/gone":
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "no_service")
		case "/api/chat.postMessage":
			if m["channel"] == "U404" {
				io.WriteString(w, `{"ok":false,"error":"channel_not_found"}`)
				return
			}
			io.WriteString(w, `{"ok":true,"ts":"1.2"}`)
		case "/slow":
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()
	c := &Client{HTTP: srv.Client(), APIBase: srv.URL + "/api"}
	ctx := context.Background()
	m := ApprovalMessage(sampleApproval(), LinkButtons)

	if err := c.PostWebhook(ctx, srv.URL+"/services/T/B/ok", m); err != nil {
		t.Errorf("webhook: %v", err)
	}
	if got[0]["unfurl_links"] != false || got[0]["blocks"] == nil {
		t.Errorf("webhook payload = %v", got[0])
	}
	if err := c.PostWebhook(ctx, srv.URL+"/services/T/B/gone", m); err == nil || !strings.Contains(err.Error(), "no_service") {
		t.Errorf("webhook 404 = %v", err)
	}
	m.Channel = "U024BE7LH"
	if err := c.PostMessage(ctx, "xoxb-test", m); err != nil {
		t.Errorf("postMessage: %v", err)
	}
	if auth[2] != "Bearer xoxb-test" || got[2]["channel"] != "U024BE7LH" {
		t.Errorf("postMessage sent auth %q channel %v", auth[2], got[2]["channel"])
	}
	m.Channel = "U404"
	if err := c.PostMessage(ctx, "xoxb-test", m); err == nil || !strings.Contains(err.Error(), "channel_not_found") {
		t.Errorf("postMessage error = %v", err)
	}
	if err := c.PostWebhook(ctx, srv.URL+"/slow", m); err == nil || !strings.Contains(err.Error(), "rate limited") {
		t.Errorf("429 = %v", err)
	}
	// A failed connection must not print the webhook URL: it is the secret.
	secretURL := "http://127.0.0.1:1/services/T0001/B0001/SECRETPART"
	err := c.PostWebhook(ctx, secretURL, m)
	if err == nil || strings.Contains(err.Error(), "SECRETPART") {
		t.Errorf("unreachable webhook error = %v", err)
	}
}

func TestIsUserID(t *testing.T) {
	for id, want := range map[string]bool{"U024BE7LH": true, "W0DAVE002": true, "C024BE7LH": false, "G024BE7LH": false, "D024BE7LH": false, "#general": false, "u024be7lh": false, "": false} {
		if IsUserID(id) != want {
			t.Errorf("IsUserID(%q) = %v", id, !want)
		}
	}
}

func TestSecretKinds(t *testing.T) {
	if !IsBotToken("xoxb-1-2-abc") || IsBotToken("https://hooks.slack.com/services/T/B/x") {
		t.Error("IsBotToken")
	}
	if !IsWebhookURL("https://hooks.slack.com/services/T/B/x") || IsWebhookURL("http://hooks.slack.com/services/T/B/x") || IsWebhookURL("https://evil.example/services/x") {
		t.Error("IsWebhookURL")
	}
}
