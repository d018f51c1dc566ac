package cloud

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestObserve(t *testing.T) {
	const sig = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/%s/aws4_request, SignedHeaders=host, Signature=00"
	tests := []struct {
		name, method, path, ctype, body string
		headers                         map[string]string
		want                            Call
	}{
		{name: "json target", method: "POST", path: "/",
			headers: map[string]string{"Authorization": strings.Replace(sig, "%s", "dynamodb", 1), "X-Amz-Target": "DynamoDB_20120810.TransactWriteItems"},
			want:    Call{Service: "dynamodb", Operation: "TransactWriteItems"}},
		{name: "sfn", method: "POST", path: "/",
			headers: map[string]string{"Authorization": strings.Replace(sig, "%s", "states", 1), "X-Amz-Target": "AWSStepFunctions.StartExecution"},
			want:    Call{Service: "states", Operation: "StartExecution"}},
		{name: "query form", method: "POST", path: "/", ctype: "application/x-www-form-urlencoded; charset=utf-8", body: "Action=GetRole&RoleName=x&Version=2010-05-08",
			headers: map[string]string{"Authorization": strings.Replace(sig, "%s", "iam", 1)},
			want:    Call{Service: "iam", Operation: "GetRole"}},
		{name: "ses v2 rest", method: "POST", path: "/v2/email/outbound-emails", ctype: "application/json", body: "{}",
			headers: map[string]string{"Authorization": strings.Replace(sig, "%s", "ses", 1)},
			want:    Call{Service: "ses", Operation: "SendEmail"}},
		{name: "invoke by arn, unsigned", method: "POST", path: "/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:NotifyFunction/invocations", body: "{}",
			want: Call{Service: "lambda", Operation: "Invoke", Resource: "NotifyFunction"}},
		{name: "other", method: "GET", path: "/moto-api/",
			want: Call{Service: "unknown", Operation: "GET /moto-api/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Call
			var seenBody string
			h := observe(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				seenBody = string(b)
				w.WriteHeader(http.StatusTeapot)
			}), func(c Call) { got = c })
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			if got.Service != tt.want.Service || got.Operation != tt.want.Operation || got.Resource != tt.want.Resource {
				t.Errorf("got %s/%s/%s, want %s/%s/%s", got.Service, got.Operation, got.Resource, tt.want.Service, tt.want.Operation, tt.want.Resource)
			}
			if got.Status != http.StatusTeapot || got.Start.IsZero() {
				t.Errorf("status %d, start %v", got.Status, got.Start)
			}
			if seenBody != tt.body {
				t.Errorf("the wrapped handler saw body %q, want %q unchanged", seenBody, tt.body)
			}
			if string(got.Body) != tt.body {
				t.Errorf("observed body %q, want %q", got.Body, tt.body)
			}
		})
	}
}

func TestObserveLargeBodyStreamsThrough(t *testing.T) {
	big := strings.Repeat("x", MaxObservedBody+10)
	var got Call
	var seen int
	h := observe(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen = len(b)
	}), func(c Call) { got = c })
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/2015-03-31/functions/f/invocations", strings.NewReader(big)))
	if seen != len(big) || got.Body != nil || got.Operation != "Invoke" {
		t.Fatalf("handler saw %d bytes (want %d), observed body %d bytes (want none), op %q", seen, len(big), len(got.Body), got.Operation)
	}
}
