package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/logging"
)

// TestCanonicalRequestMatchesSDK pins the AWS form of the canonical request
// (the first candidate) to the one aws-sdk-go-v2 signs, so a passing Verify
// is not merely the wire-form fallback accepting it.
func TestCanonicalRequestMatchesSDK(t *testing.T) {
	tests := []struct {
		name string
		give string // URL
		want string // canonical URI and query, the first two lines after the method
	}{
		{name: "plain", give: "http://h/v1/requests", want: "/v1/requests\n"},
		{name: "empty path", give: "http://h", want: "/\n"},
		{name: "template-like segment", give: "http://h/v1/requests/{id}", want: "/v1/requests/%257Bid%257D\n"},
		{name: "space is double-encoded", give: "http://h/d/a%20b", want: "/d/a%2520b\n"},
		{name: "encoded slash", give: "http://h/d/a%2Fb", want: "/d/a%252Fb\n"},
		{name: "sub-delims", give: "http://h/d/a:b@c!$&'()*+,;=", want: "/d/a%3Ab%40c%21%24%26%27%28%29%2A%2B%2C%3B%3D\n"},
		{name: "unicode", give: "http://h/d/%C3%A9", want: "/d/%25C3%25A9\n"},
		{name: "query sorted after encoding", give: "http://h/?b=a%2Fb&b=a-b&a=1", want: "/\na=1&b=a%2Fb&b=a-b"},
		{name: "query plus and space", give: "http://h/?q=a+b&r=c%20d", want: "/\nq=a%20b&r=c%20d"},
		{name: "query key without value", give: "http://h/?flag", want: "/\nflag="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sdkCanonical, req := signWithSDK(t, tt.give)
			_, gotTarget, _ := strings.Cut(sdkCanonical, "\n")
			if !strings.HasPrefix(gotTarget, tt.want+"\n") {
				t.Errorf("SDK canonical URI/query = %q, want prefix %q", gotTarget, tt.want)
			}

			auth, err := parseAuthorization(req.Header)
			if err != nil {
				t.Fatalf("parseAuthorization: %v", err)
			}
			headers, missing := canonicalHeaders(auth.signedHeaders, headerValues(req))
			if missing != "" {
				t.Fatalf("signed header %q missing", missing)
			}
			aws := requestTarget(req).candidates()[0]
			got := canonicalRequest(req.Method, aws, headers, strings.Join(auth.signedHeaders, ";"), emptySHA256)
			if got != sdkCanonical {
				t.Errorf("canonical request mismatch\n got: %q\nwant: %q", got, sdkCanonical)
			}
		})
	}
}

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// signWithSDK signs a GET with the SDK, capturing the canonical request from
// its signing log, and returns the request as a server receives it.
func signWithSDK(t *testing.T, rawURL string) (string, *http.Request) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	var canonical string
	logger := logging.LoggerFunc(func(_ logging.Classification, _ string, v ...any) {
		canonical = v[0].(string)
	})
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.LogSigning, o.Logger = true, logger })
	creds := aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}
	if err := signer.SignHTTP(context.Background(), creds, req, emptySHA256, "execute-api", "us-east-1", time.Now()); err != nil {
		t.Fatalf("sign: %v", err)
	}
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatalf("write: %v", err)
	}
	srv, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return canonical, srv
}

func TestEncodeURI(t *testing.T) {
	tests := []struct {
		name        string
		give        string
		encodeSlash bool
		want        string
	}{
		{name: "unreserved untouched", give: "AZaz09-_.~", want: "AZaz09-_.~"},
		{name: "slash kept in paths", give: "/a/b", want: "/a/b"},
		{name: "slash encoded in query", give: "/a/b", encodeSlash: true, want: "%2Fa%2Fb"},
		{name: "percent encoded again", give: "%20", want: "%2520"},
		{name: "upper-case hex", give: "\xff\x0a", want: "%FF%0A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := encodeURI(tt.give, tt.encodeSlash); got != tt.want {
				t.Errorf("encodeURI(%q) = %q, want %q", tt.give, got, tt.want)
			}
		})
	}
}

func TestRequestTarget(t *testing.T) {
	tests := []struct {
		name string
		give *http.Request
		want target
	}{
		{
			name: "server request keeps the wire form",
			give: mustReadRequest(t, "GET /a%41b/c%2Fd?y=1&x HTTP/1.1\r\nHost: h\r\n\r\n"),
			want: target{path: "/a%41b/c%2Fd", query: "y=1&x"},
		},
		{
			name: "absolute-form target",
			give: mustReadRequest(t, "GET http://h/p?q HTTP/1.1\r\nHost: h\r\n\r\n"),
			want: target{path: "/p", query: "q"},
		},
		{
			name: "client request uses the escaped path",
			give: mustNewRequest(t, "http://h/a b?q=1"),
			want: target{path: "/a%20b", query: "q=1"},
		},
		{
			name: "empty path is root",
			give: mustNewRequest(t, "http://h"),
			want: target{path: "/"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := requestTarget(tt.give); got != tt.want {
				t.Errorf("requestTarget() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func mustReadRequest(t *testing.T, raw string) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("read request: %v", err)
	}
	return r
}

func mustNewRequest(t *testing.T, rawURL string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	return r
}

func TestCanonicalHeadersServerSide(t *testing.T) {
	// net/http's server moves Host out of Header; Content-Length stays, but a
	// hand-built request may only have the field.
	r := mustReadRequest(t, "POST / HTTP/1.1\r\nHost: h:1\r\nContent-Length: 2\r\nX-A: 1\r\nX-A:  2   3 \r\n\r\nab")
	r.Header.Del("Content-Length")
	got, missing := canonicalHeaders([]string{"content-length", "host", "x-a"}, headerValues(r))
	want := "content-length:2\nhost:h:1\nx-a:1,2 3\n"
	if missing != "" || got != want {
		t.Errorf("canonicalHeaders() = %q, %q; want %q", got, missing, want)
	}
}
