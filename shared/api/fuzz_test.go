package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/policy"
	"github.com/jitaccess/jit/shared/store/storetest"
	"github.com/jitaccess/jit/shared/workflow"
)

// fuzzWorkflow records started executions; the embedded Workflow is nil.
type fuzzWorkflow struct {
	Workflow
	started []workflow.Input
}

func (w *fuzzWorkflow) Start(_ context.Context, in workflow.Input) (string, error) {
	w.started = append(w.started, in)
	return "arn:aws:states:us-east-1:123456789012:execution:x:" + in.RequestID, nil
}

// fuzzCallers are the principals a fuzzed call may come from: allowed,
// not allowed, the only approver of "solo", and odd ARNs.
var fuzzCallers = []string{
	alice,
	"arn:aws:sts::123456789012:assumed-role/Auditor/frank@example.com",
	"arn:aws:sts::123456789012:assumed-role/Ops/ops@example.com",
	"arn:aws:sts::123456789012:assumed-role/Engineer/carol@example.com",
	"arn:aws:sts::123456789012:assumed-role/Engineer/",
	"x",
}

// FuzzCreateRequest drives POST /v1/requests (decodeJSON, NewRequest,
// Idempotency-Key) with arbitrary bodies, content types, base64 flags and
// keys. It must never panic or fail with 5xx; every refusal is a JSON error
// that writes nothing; and whatever it creates obeys the policy.
func FuzzCreateRequest(f *testing.F) {
	seeds := []struct {
		body, contentType string
		b64               bool
		key               string
		who               uint8
	}{
		{`{"resource":"db","duration":"15m","reason":"fix prod"}`, "application/json", false, "", 0},
		{`{"resource":"db","reason":"fix prod"}`, "application/json; charset=utf-8", false, "ci-1", 0},
		{`{"resource":"solo","duration":"1h","reason":"x"}`, "", false, "", 2},
		{`{"resource":"solo","duration":"59m59s","reason":"é"}`, "", false, "a:b.c_d-e", 1},
		{`{"resource":"db","duration":"15m","reason":"fix prod"}`, "application/json", true, "", 0},
		{`{"resource":"db","duration":"0s","reason":"fix prod"}`, "application/json", false, "", 0},
		{`{"resource":" db ","duration":" 1m ","reason":"  fix prod  "}`, "application/json", false, "", 3},
		{`{"resource":"db","duration":"15m","reason":"fix prod"}{}`, "application/json", false, "", 0},
		{`{"resource":"db","duration":15}`, "application/json", false, "", 0},
		{`[]`, "application/json", false, "", 0},
		{`null`, "application/json", false, "", 0},
		{`{"resource":"db","duration":"15m","reason":"fix prod","x":1}`, "application/json", false, "", 0},
		{`resource=db`, "application/x-www-form-urlencoded", false, "", 0},
		{"", "application/json", false, "", 0},
		{`{"reason":"` + strings.Repeat("x", 1001) + `"}`, "application/json", false, "k k", 0},
	}
	for _, s := range seeds {
		body := s.body
		if s.b64 {
			body = base64.StdEncoding.EncodeToString([]byte(body))
		}
		f.Add(body, s.contentType, s.b64, s.key, s.key != "", s.who)
	}
	doc, err := policy.Parse([]byte(testPolicy))
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

	f.Fuzz(func(t *testing.T, body, contentType string, b64 bool, key string, hasKey bool, who uint8) {
		caller := fuzzCallers[int(who)%len(fuzzCallers)]
		st, wf := storetest.New().WithPolicy(7, testPolicy), &fuzzWorkflow{}
		h := &Handler{Store: st, Workflow: wf, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now },
			Random: bytes.NewReader(bytes.Repeat([]byte{7}, 64))}
		req := events.APIGatewayV2HTTPRequest{
			RouteKey: "POST /v1/requests", Body: body, IsBase64Encoded: b64,
			Headers: map[string]string{},
		}
		if contentType != "" {
			req.Headers["content-type"] = contentType
		}
		if hasKey {
			req.Headers["idempotency-key"] = key
		}
		req.RequestContext.DomainName = "api.example.com"
		req.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{UserARN: caller},
		}

		resp, err := h.Handle(context.Background(), req)
		if err != nil {
			t.Fatalf("Handle returned an error: %v", err)
		}
		if resp.Headers["Content-Type"] != "application/json" || resp.Headers["Cache-Control"] != "no-store" {
			t.Fatalf("headers %v", resp.Headers)
		}
		var out map[string]any
		if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
			t.Fatalf("%d body is not JSON: %q", resp.StatusCode, resp.Body)
		}

		switch resp.StatusCode {
		case http.StatusCreated:
		case http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge,
			http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
			if msg, _ := out["message"].(string); out["error"] == nil || msg == "" {
				t.Fatalf("%d without error and message: %s", resp.StatusCode, resp.Body)
			}
			if len(st.Created) != 0 || len(wf.started) != 0 || len(st.Changes) != 0 {
				t.Fatalf("%d but something was written: %d created, %d started", resp.StatusCode, len(st.Created), len(wf.started))
			}
			return
		default:
			t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}

		// Created: exactly one request, started once, and everything about
		// it checked again from the raw input, independently of the handler.
		if len(st.Created) != 1 || len(wf.started) != 1 {
			t.Fatalf("201 with %d created, %d started", len(st.Created), len(wf.started))
		}
		if len(st.Events) < 2 || st.Events[0].Type != access.EventCreated || st.Events[1].Type != access.EventPolicyEvaluated {
			t.Fatalf("201 with events %+v, want created then policy_evaluated", st.Events)
		}
		r := st.Created[0]
		raw := []byte(body)
		if b64 {
			if raw, err = base64.StdEncoding.DecodeString(body); err != nil {
				t.Fatalf("201 for a body that is not base64")
			}
		}
		if ct := strings.ToLower(contentType); ct != "" && !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("201 for Content-Type %q", contentType)
		}
		if len(raw) > maxBodyBytes {
			t.Fatalf("201 for a %d-byte body", len(raw))
		}
		if !json.Valid(raw) {
			t.Fatalf("201 for a body that is not one JSON value: %q", raw)
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil {
			t.Fatalf("201 for a body that is not a JSON object: %q", raw)
		}
		for k := range fields {
			if !knownField(k) {
				t.Fatalf("201 for a body with unknown field %q", k)
			}
		}
		if hasKey && !idempotencyKeyPattern.MatchString(key) {
			t.Fatalf("201 with a bad Idempotency-Key %q", key)
		}
		res, ok := doc.Resource(r.Resource)
		if !ok {
			t.Fatalf("created a request for %q, not in the policy", r.Resource)
		}
		if r.Requester != caller || !access.MayRequest(res, access.DirectoryOf(doc).Identify(caller)) {
			t.Fatalf("created for %q (caller %q), who may not request %q", r.Requester, caller, r.Resource)
		}
		if r.Duration < res.MinDuration.Std() || r.Duration > res.MaxDuration.Std() || r.Duration%time.Second != 0 {
			t.Fatalf("duration %s outside %s..%s", r.Duration, res.MinDuration.Std(), res.MaxDuration.Std())
		}
		if n := utf8.RuneCountInString(r.Reason); n < res.ReasonMinLength || n > policy.MaxReasonLength || strings.TrimSpace(r.Reason) != r.Reason {
			t.Fatalf("reason %q (%d runes) outside %d..%d or untrimmed", r.Reason, n, res.ReasonMinLength, policy.MaxReasonLength)
		}
		if r.Status == access.Pending && len(r.Approvers) == 0 {
			t.Fatal("created a pending request nobody can approve")
		}
		for _, a := range r.Approvers {
			if access.SamePerson(a, "", access.DirectoryOf(doc).Identify(caller)) {
				t.Fatalf("the requester %s is among the approvers %v", caller, r.Approvers)
			}
		}
		// testPolicy has no auto-approval or break-glass: every new request
		// waits for a person.
		if r.Status != access.Pending || r.PolicyVersion != 7 || !access.ValidID(r.ID) || out["id"] != r.ID || out["status"] != string(r.Status) {
			t.Fatalf("created %+v, answered %s", r, resp.Body)
		}
		if wf.started[0].RequestID != r.ID {
			t.Fatalf("workflow input %+v", wf.started[0])
		}
	})
}

// knownField reports whether name is a field of the create body, matched
// as encoding/json matches it (case-insensitively).
func knownField(name string) bool {
	typ := reflect.TypeOf(createBody{})
	for i := 0; i < typ.NumField(); i++ {
		tag, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if tag == "" {
			tag = typ.Field(i).Name
		}
		if strings.EqualFold(tag, name) {
			return true
		}
	}
	return false
}

// TestDecodeJSONRejectsTrailingBrackets is the regression test of a bug the
// fuzz target found: json.Decoder.More reports false before a closing
// bracket or brace, so `{...}]` and `{...}}` were accepted (and created a
// request); decodeJSON now requires the end of input after the object.
func TestDecodeJSONRejectsTrailingBrackets(t *testing.T) {
	for _, tail := range []string{"]", "}", " ]]", "\n}"} {
		var b createBody
		err := decodeJSON(events.APIGatewayV2HTTPRequest{Body: `{"resource":"db","duration":"5m","reason":"fix prod"}` + tail, Headers: map[string]string{"content-type": "application/json"}}, &b)
		if err == nil {
			t.Errorf("body with trailing %q accepted", tail)
		}
	}
}

// TestDecodeJSONRefusals covers refusals the table in handler_test.go does
// not: wrong base64, non-object bodies, and the exact size limit.
func TestDecodeJSONRefusals(t *testing.T) {
	okBody := `{"resource":"db","duration":"5m","reason":"fix prod"}`
	pad := func(n int) string { // a valid body of exactly n bytes
		b := `{"resource":"db","duration":"5m","reason":"`
		return b + strings.Repeat("x", n-len(b)-2) + `"}`
	}
	tests := []struct {
		name string
		req  events.APIGatewayV2HTTPRequest
		want string // "" means accepted
	}{
		{"base64 ok", events.APIGatewayV2HTTPRequest{Body: base64.StdEncoding.EncodeToString([]byte(okBody)), IsBase64Encoded: true}, ""},
		{"base64 broken", events.APIGatewayV2HTTPRequest{Body: "%%%", IsBase64Encoded: true}, "not valid base64"},
		{"exactly the limit", events.APIGatewayV2HTTPRequest{Body: pad(maxBodyBytes)}, ""},
		{"one byte over", events.APIGatewayV2HTTPRequest{Body: pad(maxBodyBytes + 1)}, "the limit is 16384"},
		{"number", events.APIGatewayV2HTTPRequest{Body: `42`}, "body is not valid"},
		{"string", events.APIGatewayV2HTTPRequest{Body: `"db"`}, "body is not valid"},
		{"content type case", events.APIGatewayV2HTTPRequest{Body: okBody, Headers: map[string]string{"content-type": "Application/JSON; charset=UTF-8"}}, ""},
		{"trailing text", events.APIGatewayV2HTTPRequest{Body: okBody + " x"}, "single JSON object"},
		{"invalid UTF-8 in a string", events.APIGatewayV2HTTPRequest{Body: "{\"reason\":\"\xff\"}"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b createBody
			err := decodeJSON(tt.req, &b)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// Make sure the seeds above stay valid inputs for the fuzz target's
// reference checks (a guard against editing testPolicy under them).
func TestFuzzSeedsCreate(t *testing.T) {
	st, wf := storetest.New().WithPolicy(7, testPolicy), &fuzzWorkflow{}
	h := &Handler{Store: st, Workflow: wf, Logger: slog.New(slog.DiscardHandler), Now: time.Now, Random: nil}
	req := events.APIGatewayV2HTTPRequest{RouteKey: "POST /v1/requests", Body: `{"resource":"db","duration":"15m","reason":"fix prod"}`}
	req.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{UserARN: alice},
	}
	resp, _ := h.Handle(context.Background(), req)
	if resp.StatusCode != http.StatusCreated || len(st.Created) != 1 {
		t.Fatalf("seed request: %d %s", resp.StatusCode, resp.Body)
	}
}
