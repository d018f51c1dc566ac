package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestResignIsTheSDKs: for requests an SDK signs, re-signing what the
// server received with the SDK's signer gives the client's signature, so
// the SDK, not canonical.go, is what accepts them; for curl's form (path
// as sent) it may not, and canonical.go's forms decide.
func TestResignIsTheSDKs(t *testing.T) {
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	tests := []struct {
		name, method, url, body, token string
		headers                        map[string]string
	}{
		{name: "plain GET", method: "GET", url: "http://h.localhost:3000/v1/requests"},
		{name: "query to sort and encode", method: "GET", url: "http://h.localhost:3000/v1/audit?to=2026-12-01T00%3A00%3A00Z&a=2&a=1&flag&plus=a+b"},
		{name: "path that needs encoding", method: "GET", url: "http://h.localhost:3000/d/a%20b:c@d!e$f&g=h'(i)*+,;%2Fj~k%C3%A9"},
		{name: "POST with a body", method: "POST", url: "http://h.localhost:3000/v1/requests", body: `{"resource":"db"}`, headers: map[string]string{"Content-Type": "application/json"}},
		{name: "session token", method: "GET", url: "http://h.localhost:3000/v1/requests/r-1", token: "IQoJb3JpZ2luX2VjEXAMPLE//token=="},
		{name: "header with runs of spaces", method: "GET", url: "http://h.localhost:3000/v1/requests", headers: map[string]string{"X-Custom": "  a   b  c "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, err := http.NewRequest(tt.method, tt.url, body)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			sum := sha256.Sum256([]byte(tt.body))
			payload := hex.EncodeToString(sum[:])
			creds := aws.Credentials{AccessKeyID: "AKIDLOCALTEST0000001", SecretAccessKey: secret, SessionToken: tt.token}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payload, "execute-api", "us-east-1", at); err != nil {
				t.Fatal(err)
			}
			var wire bytes.Buffer
			if err := req.Write(&wire); err != nil {
				t.Fatal(err)
			}
			srv, err := http.ReadRequest(bufio.NewReader(&wire))
			if err != nil {
				t.Fatal(err)
			}
			auth, err := parseAuthorization(srv.Header)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := resign(srv, headerValues(srv), auth, payload, secret, at)
			if !ok || got != auth.signature {
				t.Fatalf("resign = %q, %v; want the client's %q", got, ok, auth.signature)
			}
			if s, ok := resign(srv, headerValues(srv), auth, payload, "another secret", at); ok && s == auth.signature {
				t.Fatal("another secret gives the same signature")
			}
		})
	}
	// A client that signed a header the SDK leaves out (User-Agent): the
	// SDK cannot reproduce it, and says so rather than disagreeing.
	srv, _ := http.NewRequest("GET", "http://h.localhost:3000/v1/requests", nil)
	srv.Host = "h.localhost:3000"
	srv.Header.Set("User-Agent", "curl/7.88.1")
	srv.Header.Set("X-Amz-Date", "20261128T120000Z")
	auth := authorization{accessKeyID: "AKIDLOCALTEST0000001", scopeDate: "20261128", region: "us-east-1", service: "execute-api",
		signedHeaders: []string{"host", "user-agent", "x-amz-date"}}
	if _, ok := resign(srv, headerValues(srv), auth, strings.Repeat("0", 64), secret, at); ok {
		t.Fatal("resign claimed to reproduce a signature over User-Agent")
	}
}
