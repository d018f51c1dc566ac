package sigv4_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jitaccess/jit/shared/local/sigv4"
)

// FuzzVerify feeds arbitrary request targets, Authorization headers, dates,
// tokens and bodies to Verify. It must never panic, must only fail with an
// *Error that does not leak the secret, and can only succeed for the one key
// it knows.
func FuzzVerify(f *testing.F) {
	for _, spec := range []signSpec{
		{url: "http://" + testHost + "/v1/requests?b=2&a=1"},
		{method: http.MethodPost, url: "http://" + testHost + "/v1/requests", body: `{"a":1}`,
			headers: map[string]string{"Content-Type": "application/json"}, token: "tok"},
		{url: "http://" + testHost + "/d/a%20b%2Fc"},
	} {
		r, body := signed(f, spec)
		f.Add(r.Method, r.RequestURI, r.Header.Get("Authorization"), r.Header.Get("X-Amz-Date"),
			r.Header.Get("X-Amz-Security-Token"), string(body))
	}
	f.Add("GET", "/", "", "", "", "")
	f.Add("GET", "*", "AWS4-HMAC-SHA256 ", "2026", "", "")
	f.Add("GET", "/%zz?%zz=%", "AWS4-HMAC-SHA256 Credential=////, SignedHeaders=;;, Signature=", "20261128T120000Z", "", "")
	f.Add("PUT", "http://x", "AWS4-HMAC-SHA256 Credential="+testAKID+"/20261128/us-east-1/execute-api/aws4_request,SignedHeaders=host,Signature=00,Signature=01", "20261128T120000Z", "t", "\x00\xff")

	v := newVerifier()
	f.Fuzz(func(t *testing.T, method, target, authorization, amzDate, token, body string) {
		r := &http.Request{
			Method:     method,
			RequestURI: target,
			Host:       testHost,
			Header:     http.Header{},
		}
		if u, err := url.ParseRequestURI(target); err == nil {
			r.URL = u
		} else {
			r.URL = &url.URL{Path: target}
		}
		r.Header.Set("Authorization", authorization)
		r.Header.Set("X-Amz-Date", amzDate)
		if token != "" {
			r.Header.Set("X-Amz-Security-Token", token)
		}

		akid, err := v.Verify(r, []byte(body))
		if err == nil {
			if akid != testAKID {
				t.Fatalf("Verify() accepted unknown key %q", akid)
			}
			return
		}
		var verr *sigv4.Error
		if !errors.As(err, &verr) {
			t.Fatalf("Verify() error %T is not *sigv4.Error: %v", err, err)
		}
		if verr.Code == "" || verr.Message == "" || verr.Reason == "" {
			t.Fatalf("Verify() error has empty fields: %#v", verr)
		}
		if strings.Contains(verr.Message, testSecret) {
			t.Fatalf("Verify() error leaks the secret: %q", verr.Message)
		}
	})
}
