package cloud

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestFaultValidate(t *testing.T) {
	tests := []struct {
		name    string
		give    Fault
		wantErr string
	}{
		{name: "aws error", give: Fault{Service: "iam", Operation: "UpdateAssumeRolePolicy", Code: "Throttling"}},
		{name: "aws error of one function", give: Fault{Service: "lambda", Operation: "Invoke", Code: "TooManyRequestsException", Function: "GrantFunction"}},
		{name: "crash", give: Fault{Service: "lambda", Operation: "Invoke", Code: CodeCrash, Function: "GrantFunction", Count: 1}},
		{name: "no code", give: Fault{Service: "ses", Operation: "SendEmail"}, wantErr: "want {"},
		{name: "crash of every function", give: Fault{Service: "lambda", Operation: "Invoke", Code: CodeCrash}, wantErr: "a crash needs"},
		{name: "crash of a DynamoDB call", give: Fault{Service: "dynamodb", Operation: "PutItem", Code: CodeCrash, Function: "GrantFunction"}, wantErr: "a crash needs"},
		{name: "function on another service", give: Fault{Service: "ses", Operation: "SendEmail", Code: "Throttling", Function: "NotifyFunction"}, wantErr: `"function" applies only`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := (&Faults{}).Add(tt.give)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Add: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Add: %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}

// TestCrashFaults: a crash rule hits only its function's invocations,
// named however Step Functions names them, as many times as counted, and
// never answers at the edge.
func TestCrashFaults(t *testing.T) {
	fs := &Faults{}
	if err := fs.Add(Fault{Service: "lambda", Operation: "Invoke", Code: CodeCrash, Function: "GrantFunction", Count: 2}); err != nil {
		t.Fatal(err)
	}
	if f := fs.match("lambda", "Invoke", "GrantFunction"); f != nil {
		t.Fatalf("the edge answered a crash rule: %+v", f)
	}
	var got []bool
	for _, name := range []string{
		"NotifyFunction",
		"arn:aws:lambda:us-east-1:123456789012:function:GrantFunction",
		"NotifyFunction",
		"GrantFunction:$LATEST",
		"GrantFunction",
	} {
		got = append(got, fs.crashes(name))
	}
	if want := []bool{false, true, false, true, false}; !slices.Equal(got, want) {
		t.Fatalf("crashes = %v, want %v", got, want)
	}
	if n := fs.Pending(); n != 0 {
		t.Fatalf("Pending = %d after the counted crashes, want 0", n)
	}
}

// TestFaultOfOneFunction: an error rule with a function fails only that
// function's invokes at the edge.
func TestFaultOfOneFunction(t *testing.T) {
	fs := &Faults{}
	if err := fs.Add(Fault{Service: "lambda", Operation: "Invoke", Code: "TooManyRequestsException", Status: 429, Function: "GrantFunction"}); err != nil {
		t.Fatal(err)
	}
	h := fs.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	const sig = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=00"
	for _, tt := range []struct {
		path string
		want int
	}{
		{"/2015-03-31/functions/NotifyFunction/invocations", http.StatusOK},
		{"/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:GrantFunction/invocations", http.StatusTooManyRequests},
	} {
		req := httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader("{}"))
		req.Header.Set("Authorization", sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("%s: %d, want %d", tt.path, rec.Code, tt.want)
		}
	}
}

func TestFaultControl(t *testing.T) {
	fs := &Faults{}
	h := fs.wrap(http.NotFoundHandler())
	post := func(body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/_local/faults", strings.NewReader(body)))
		return rec
	}
	if rec := post(`{"service":"lambda","operation":"Invoke","code":"Crash","function":"GrantFunction","count":1}`); rec.Code != http.StatusNoContent {
		t.Fatalf("POST crash: %d %s", rec.Code, rec.Body)
	}
	if n := fs.Pending(); n != 1 {
		t.Fatalf("Pending = %d, want 1", n)
	}
	rec := post(`{"service":"lambda","operation":"Invoke","code":"Crash"}`)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `\"function\":NAME`) {
		t.Fatalf("POST crash without a function: %d %s", rec.Code, rec.Body)
	}
	del := httptest.NewRecorder()
	h.ServeHTTP(del, httptest.NewRequest(http.MethodDelete, "/_local/faults", nil))
	if del.Code != http.StatusNoContent || fs.Pending() != 0 {
		t.Fatalf("DELETE: %d, pending %d", del.Code, fs.Pending())
	}
}
