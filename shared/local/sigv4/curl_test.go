package sigv4_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/local/sigv4"
)

// TestVerifyCurl signs real requests with curl's --aws-sigv4, the tool a
// developer reaches for first against the local gateway. curl 7.88 signs the
// path and query string exactly as it sends them (no sorting, no second
// encoding), which is why Verify also accepts the wire form.
func TestVerifyCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	v := &sigv4.Verifier{
		Region:  testRegion,
		Service: testService,
		Lookup: func(id string) (string, bool) {
			return testSecret, id == testAKID
		},
		Now: time.Now,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		akid, err := v.Verify(r, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		fmt.Fprintf(w, "%s %s %s %s", akid, r.Method, r.RequestURI, body)
	}))
	t.Cleanup(srv.Close)

	tests := []struct {
		name   string
		path   string
		args   []string
		secret string
		want   string
	}{
		{
			name: "GET with unsorted query",
			path: "/v1/requests?status=pending&limit=10&q=a%20b&flag",
			want: "200 " + testAKID + " GET /v1/requests?status=pending&limit=10&q=a%20b&flag",
		},
		{
			name: "POST with JSON body",
			path: "/v1/requests",
			args: []string{"-H", "Content-Type: application/json", "-d", `{"role":"arn:aws:iam::123456789012:role/admin","reason":"incident 42"}`},
			want: "200 " + testAKID + ` POST /v1/requests {"role":"arn:aws:iam::123456789012:role/admin","reason":"incident 42"}`,
		},
		{
			name: "path with percent-encoded characters",
			path: "/d/tok%20en%3A%2F1",
			want: "200 " + testAKID + " GET /d/tok%20en%3A%2F1",
		},
		{
			name: "session token",
			path: "/v1/requests/r-1",
			args: []string{"-H", "X-Amz-Security-Token: IQoJb3JpZ2luX2VjEXAMPLE=="},
			want: "200 " + testAKID + " GET /v1/requests/r-1",
		},
		{
			name:   "wrong secret is refused",
			path:   "/v1/requests",
			secret: "not-the-secret",
			want:   "403 " + sigv4.CodeInvalidSignature,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret := testSecret
			if tt.secret != "" {
				secret = tt.secret
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			// -q ignores ~/.curlrc; --noproxy keeps a developer's proxy
			// settings away from the loopback test server.
			args := []string{"-q", "-sS", "--noproxy", "*",
				"--aws-sigv4", "aws:amz:" + testRegion + ":" + testService,
				"--user", testAKID + ":" + secret,
				"-w", "\n%{http_code}"}
			args = append(append(args, tt.args...), srv.URL+tt.path)
			out, err := exec.CommandContext(ctx, curl, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("curl: %v\n%s", err, out)
			}
			body, status := splitStatus(string(out))
			got := status + " " + body
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("curl got %q, want prefix %q", got, tt.want)
			}
		})
	}
}

// splitStatus separates curl's output into the body and the status code
// that "-w '\n%{http_code}'" appended after it.
func splitStatus(out string) (body, status string) {
	i := strings.LastIndex(out, "\n")
	if i < 0 {
		return "", out
	}
	return strings.TrimSpace(out[:i]), out[i+1:]
}
