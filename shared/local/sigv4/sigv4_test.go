package sigv4_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/jitaccess/jit/shared/local/sigv4"
)

const (
	testAKID    = "AKIDLOCALTEST0000001"
	testSecret  = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testRegion  = "us-east-1"
	testService = "execute-api"
	testHost    = "local.execute-api.localhost:4567"
)

var testNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// signSpec describes a request to sign with the AWS SDK's signer. Empty
// fields take the test defaults.
type signSpec struct {
	method, url, body string
	headers           map[string]string
	token             string
	akid, secret      string
	region, service   string
	at                time.Time
}

// signed signs spec with aws-sdk-go-v2's signer and returns the request as a
// server would see it, plus its body.
func signed(t testing.TB, spec signSpec) (*http.Request, []byte) {
	t.Helper()
	spec = withDefaults(spec)
	var body io.Reader
	if spec.body != "" {
		body = strings.NewReader(spec.body)
	}
	req, err := http.NewRequest(spec.method, spec.url, body)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	for k, v := range spec.headers {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256([]byte(spec.body))
	creds := aws.Credentials{AccessKeyID: spec.akid, SecretAccessKey: spec.secret, SessionToken: spec.token}
	err = v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]),
		spec.service, spec.region, spec.at)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return overTheWire(t, req)
}

func withDefaults(spec signSpec) signSpec {
	if spec.method == "" {
		spec.method = http.MethodGet
	}
	if spec.akid == "" {
		spec.akid = testAKID
	}
	if spec.secret == "" {
		spec.secret = testSecret
	}
	if spec.region == "" {
		spec.region = testRegion
	}
	if spec.service == "" {
		spec.service = testService
	}
	if spec.at.IsZero() {
		spec.at = testNow
	}
	return spec
}

// overTheWire serializes a client request and parses it back the way
// net/http's server does, so Verify sees RequestURI, Host and headers exactly
// as it will in the gateway.
func overTheWire(t testing.TB, req *http.Request) (*http.Request, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatalf("write request: %v", err)
	}
	srv, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatalf("read request: %v", err)
	}
	body, err := io.ReadAll(srv.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return srv, body
}

func newVerifier() *sigv4.Verifier {
	return &sigv4.Verifier{
		Region:  testRegion,
		Service: testService,
		Lookup: func(id string) (string, bool) {
			if id == testAKID {
				return testSecret, true
			}
			return "", false
		},
		Now: func() time.Time { return testNow },
	}
}

func TestVerifyAcceptsSDKSignatures(t *testing.T) {
	tests := []struct {
		name string
		give signSpec
	}{
		{
			name: "GET without query",
			give: signSpec{url: "http://" + testHost + "/v1/requests"},
		},
		{
			name: "GET root with empty path",
			give: signSpec{url: "http://" + testHost},
		},
		{
			name: "GET with unsorted, repeated and encoded query parameters",
			give: signSpec{url: "http://" + testHost + "/v1/requests?status=pending&b=x%20y&a=2&a=1&slash=a%2Fb&plus=a+b&flag"},
		},
		{
			name: "POST with JSON body",
			give: signSpec{
				method:  http.MethodPost,
				url:     "http://" + testHost + "/v1/requests",
				body:    `{"role":"arn:aws:iam::123456789012:role/admin","reason":"incident 42","duration":"1h"}`,
				headers: map[string]string{"Content-Type": "application/json"},
			},
		},
		{
			name: "path segment that looks like a template",
			give: signSpec{url: "http://" + testHost + "/v1/requests/{id}"},
		},
		{
			name: "path with characters needing encoding",
			give: signSpec{url: "http://" + testHost + "/d/a%20b:c@d!e$f&g=h'(i)*+,;%2Fj~k%C3%A9"},
		},
		{
			name: "session token",
			give: signSpec{url: "http://" + testHost + "/v1/requests/r-1", token: "IQoJb3JpZ2luX2VjEXAMPLE//token+with/slashes=="},
		},
		{
			name: "signed header with extra spaces and a multi-value header",
			give: signSpec{
				url:     "http://" + testHost + "/v1/requests",
				headers: map[string]string{"X-Custom": "  a   b  c ", "Accept": "application/json"},
			},
		},
		{
			name: "X-Amz-Content-Sha256 signed",
			give: signSpec{
				method: http.MethodPost,
				url:    "http://" + testHost + "/v1/requests",
				body:   `{"a":1}`,
				headers: map[string]string{
					"Content-Type":         "application/json",
					"X-Amz-Content-Sha256": sha256Hex(`{"a":1}`),
				},
			},
		},
		{
			name: "clock skew within limit",
			give: signSpec{url: "http://" + testHost + "/v1/requests", at: testNow.Add(4*time.Minute + 59*time.Second)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, body := signed(t, tt.give)
			got, err := newVerifier().Verify(req, body)
			if err != nil {
				t.Fatalf("Verify() error = %v", err)
			}
			if got != testAKID {
				t.Errorf("Verify() = %q, want %q", got, testAKID)
			}
		})
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// setTarget changes the request target of a server-side request.
func setTarget(t *testing.T, r *http.Request, target string) {
	t.Helper()
	u, err := r.URL.Parse(target)
	if err != nil {
		t.Fatalf("parse %q: %v", target, err)
	}
	r.URL = u
	r.RequestURI = target
}

func TestVerifyRejects(t *testing.T) {
	post := signSpec{
		method:  http.MethodPost,
		url:     "http://" + testHost + "/v1/requests/r-1?x=1",
		body:    `{"decision":"approve"}`,
		headers: map[string]string{"Content-Type": "application/json"},
	}
	tests := []struct {
		name     string
		give     signSpec
		tamper   func(t *testing.T, r *http.Request, body *[]byte)
		wantCode string
		wantErr  sigv4.Reason
	}{
		{
			name:     "missing Authorization header",
			give:     post,
			tamper:   func(_ *testing.T, r *http.Request, _ *[]byte) { r.Header.Del("Authorization") },
			wantCode: sigv4.CodeMissingAuthenticationToken,
			wantErr:  sigv4.ReasonMissingAuthorization,
		},
		{
			name: "other authorization scheme",
			give: post,
			tamper: func(_ *testing.T, r *http.Request, _ *[]byte) {
				r.Header.Set("Authorization", "Bearer eyJhbGciOi")
			},
			wantCode: sigv4.CodeIncompleteSignature,
			wantErr:  sigv4.ReasonMalformedAuthorization,
		},
		{
			name: "Authorization without Signature and SignedHeaders",
			give: post,
			tamper: func(_ *testing.T, r *http.Request, _ *[]byte) {
				r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testAKID+"/20261128/us-east-1/execute-api/aws4_request")
			},
			wantCode: sigv4.CodeIncompleteSignature,
			wantErr:  sigv4.ReasonMalformedAuthorization,
		},
		{
			name: "malformed credential",
			give: post,
			tamper: func(_ *testing.T, r *http.Request, _ *[]byte) {
				replaceAuth(r, "/20261128/us-east-1/execute-api/aws4_request", "/20261128/us-east-1")
			},
			wantCode: sigv4.CodeIncompleteSignature,
			wantErr:  sigv4.ReasonMalformedAuthorization,
		},
		{
			name:     "missing X-Amz-Date",
			give:     post,
			tamper:   func(_ *testing.T, r *http.Request, _ *[]byte) { r.Header.Del("X-Amz-Date") },
			wantCode: sigv4.CodeIncompleteSignature,
			wantErr:  sigv4.ReasonMissingDate,
		},
		{
			name:     "unknown access key",
			give:     withAKID(post, "AKIDNOBODY"),
			wantCode: sigv4.CodeUnrecognizedClient,
			wantErr:  sigv4.ReasonUnknownAccessKey,
		},
		{
			name:     "wrong secret",
			give:     withSecret(post, "not-the-secret"),
			wantCode: sigv4.CodeInvalidSignature,
			wantErr:  sigv4.ReasonSignatureMismatch,
		},
		{
			name:     "wrong region",
			give:     withScope(post, "eu-west-1", testService),
			wantCode: sigv4.CodeInvalidSignature,
			wantErr:  sigv4.ReasonScopeRegion,
		},
		{
			name:     "wrong service",
			give:     withScope(post, testRegion, "lambda"),
			wantCode: sigv4.CodeInvalidSignature,
			wantErr:  sigv4.ReasonScopeService,
		},
		{
			name: "credential date differs from X-Amz-Date",
			give: post,
			tamper: func(_ *testing.T, r *http.Request, _ *[]byte) {
				r.Header.Set("X-Amz-Date", "20261129T000100Z")
			},
			wantCode: sigv4.CodeInvalidSignature,
			wantErr:  sigv4.ReasonScopeDate,
		},
		{
			name: "wrong scope terminator",
			give: post,
			tamper: func(_ *testing.T, r *http.Request, _ *[]byte) {
				replaceAuth(r, "/aws4_request", "/aws5_request")
			},
			wantCode: sigv4.CodeInvalidSignature,
			wantErr:  sigv4.ReasonScopeTerminator,
		},
		{
			name:     "signed too long ago",
			give:     withTime(post, testNow.Add(-5*time.Minute-time.Second)),
			wantCode: sigv4.CodeInvalidSignature,
			wantErr:  sigv4.ReasonSkew,
		},
		{
			name:     "signed in the future",
			give:     withTime(post, testNow.Add(6*time.Minute)),
			wantCode: sigv4.CodeInvalidSignature,
			wantErr:  sigv4.ReasonSkew,
		},
		{
			name: "host not signed",
			give: post,
			tamper: func(_ *testing.T, r *http.Request, _ *[]byte) {
				replaceAuth(r, "SignedHeaders=content-length;content-type;host;x-amz-date", "SignedHeaders=content-length;content-type;x-amz-date")
			},
			wantCode: sigv4.CodeIncompleteSignature,
			wantErr:  sigv4.ReasonHostNotSigned,
		},
		{
			name: "security token added after signing",
			give: post,
			tamper: func(_ *testing.T, r *http.Request, _ *[]byte) {
				r.Header.Set("X-Amz-Security-Token", "smuggled")
			},
			wantCode: sigv4.CodeIncompleteSignature,
			wantErr:  sigv4.ReasonTokenNotSigned,
		},
		{
			name: "security token changed",
			give: withToken(post, "original-token"),
			tamper: func(_ *testing.T, r *http.Request, _ *[]byte) {
				r.Header.Set("X-Amz-Security-Token", "other-token")
			},
			wantCode: sigv4.CodeInvalidSignature,
			wantErr:  sigv4.ReasonSignatureMismatch,
		},
		{
			name:     "body tampered",
			give:     post,
			tamper:   func(_ *testing.T, _ *http.Request, body *[]byte) { *body = []byte(`{"decision":"deny"}`) },
			wantCode: sigv4.CodeInvalidSignature,
			wantErr:  sigv4.ReasonSignatureMismatch,
		},
		{
			name:     "path tampered",
			give:     post,
			tamper:   func(t *testing.T, r *http.Request, _ *[]byte) { setTarget(t, r, "/v1/requests/r-2?x=1") },
			wantCode: sigv4.CodeInvalidSignature,
			wantErr:  sigv4.ReasonSignatureMismatch,
		},
		{
			name:     "query tampered",
			give:     post,
			tamper:   func(t *testing.T, r *http.Request, _ *[]byte) { setTarget(t, r, "/v1/requests/r-1?x=1&admin=true") },
			wantCode: sigv4.CodeInvalidSignature,
			wantErr:  sigv4.ReasonSignatureMismatch,
		},
		{
			name:     "method tampered",
			give:     post,
			tamper:   func(_ *testing.T, r *http.Request, _ *[]byte) { r.Method = http.MethodPut },
			wantCode: sigv4.CodeInvalidSignature,
			wantErr:  sigv4.ReasonSignatureMismatch,
		},
		{
			name:     "host tampered",
			give:     post,
			tamper:   func(_ *testing.T, r *http.Request, _ *[]byte) { r.Host = "other.execute-api.localhost:4567" },
			wantCode: sigv4.CodeInvalidSignature,
			wantErr:  sigv4.ReasonSignatureMismatch,
		},
		{
			name:     "signed header tampered",
			give:     post,
			tamper:   func(_ *testing.T, r *http.Request, _ *[]byte) { r.Header.Set("Content-Type", "text/plain") },
			wantCode: sigv4.CodeInvalidSignature,
			wantErr:  sigv4.ReasonSignatureMismatch,
		},
		{
			name:     "signed header removed",
			give:     post,
			tamper:   func(_ *testing.T, r *http.Request, _ *[]byte) { r.Header.Del("Content-Type") },
			wantCode: sigv4.CodeInvalidSignature,
			wantErr:  sigv4.ReasonSignedHeaderMissing,
		},
		{
			name: "unsigned header added is fine",
			give: post,
			tamper: func(_ *testing.T, r *http.Request, _ *[]byte) {
				r.Header.Set("X-Forwarded-For", "198.51.100.7")
			},
		},
		{
			name: "X-Amz-Content-Sha256 not matching the body",
			give: withHeader(post, "X-Amz-Content-Sha256", sha256Hex(`{"decision":"approve"}`)),
			tamper: func(_ *testing.T, _ *http.Request, body *[]byte) {
				*body = []byte(`{"decision":"deny"}`)
			},
			wantCode: sigv4.CodeInvalidSignature,
			wantErr:  sigv4.ReasonPayloadHash,
		},
		{
			name:     "unsigned payload",
			give:     withHeader(post, "X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"),
			wantCode: sigv4.CodeInvalidSignature,
			wantErr:  sigv4.ReasonPayloadHash,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, body := signed(t, tt.give)
			if tt.tamper != nil {
				tt.tamper(t, req, &body)
			}
			_, err := newVerifier().Verify(req, body)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify() error = %v, want nil", err)
				}
				return
			}
			var verr *sigv4.Error
			if !errors.As(err, &verr) {
				t.Fatalf("Verify() error = %v (%T), want *sigv4.Error", err, err)
			}
			if verr.Reason != tt.wantErr || verr.Code != tt.wantCode {
				t.Errorf("Verify() error = %s/%s (%q), want %s/%s", verr.Code, verr.Reason, verr.Message, tt.wantCode, tt.wantErr)
			}
			if strings.Contains(verr.Error(), testSecret) {
				t.Errorf("error message leaks the secret: %q", verr.Message)
			}
		})
	}
}

func replaceAuth(r *http.Request, old, repl string) {
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, repl, 1))
}

func withAKID(s signSpec, akid string) signSpec     { s.akid = akid; return s }
func withSecret(s signSpec, secret string) signSpec { s.secret = secret; return s }
func withToken(s signSpec, token string) signSpec   { s.token = token; return s }
func withTime(s signSpec, at time.Time) signSpec    { s.at = at; return s }
func withScope(s signSpec, region, svc string) signSpec {
	s.region, s.service = region, svc
	return s
}

func withHeader(s signSpec, k, v string) signSpec {
	h := make(map[string]string, len(s.headers)+1)
	for hk, hv := range s.headers {
		h[hk] = hv
	}
	h[k] = v
	s.headers = h
	return s
}

// TestVerifyAWSTestSuite checks vectors from the AWS SigV4 test suite, which
// pin the algorithm independently of the SDK this package is otherwise
// tested against.
func TestVerifyAWSTestSuite(t *testing.T) {
	const (
		akid   = "AKIDEXAMPLE"
		secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
		date   = "20150830T123600Z"
	)
	tests := []struct {
		name      string
		give      string // request target
		signature string
	}{
		{name: "get-vanilla", give: "/", signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{name: "get-vanilla-query-order-key-case", give: "/?Param2=value2&Param1=value1", signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
	}
	v := &sigv4.Verifier{
		Region:  "us-east-1",
		Service: "service",
		Lookup:  func(id string) (string, bool) { return secret, id == akid },
		Now:     func() time.Time { return time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC) },
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := "GET " + tt.give + " HTTP/1.1\r\n" +
				"Host: example.amazonaws.com\r\n" +
				"X-Amz-Date: " + date + "\r\n" +
				"Authorization: AWS4-HMAC-SHA256 Credential=" + akid + "/20150830/us-east-1/service/aws4_request, " +
				"SignedHeaders=host;x-amz-date, Signature=" + tt.signature + "\r\n\r\n"
			req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
			if err != nil {
				t.Fatalf("read request: %v", err)
			}
			got, err := v.Verify(req, nil)
			if err != nil || got != akid {
				t.Errorf("Verify() = %q, %v; want %q, nil", got, err, akid)
			}
		})
	}
}

func TestVerifyDefaultsAndNilLookup(t *testing.T) {
	req, body := signed(t, signSpec{url: "http://" + testHost + "/v1/requests", at: time.Now()})
	v := &sigv4.Verifier{Region: testRegion, Service: testService}
	_, err := v.Verify(req, body)
	var verr *sigv4.Error
	if !errors.As(err, &verr) || verr.Reason != sigv4.ReasonUnknownAccessKey {
		t.Fatalf("Verify() with nil Lookup error = %v, want unknown access key", err)
	}
	v.Lookup = func(string) (string, bool) { return testSecret, true }
	if _, err := v.Verify(req, body); err != nil {
		t.Fatalf("Verify() with real clock error = %v", err)
	}
}
