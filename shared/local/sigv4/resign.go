package sigv4

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// resign signs a copy of r, reduced to its request target and the headers
// it signed, with the SDK's own signer (aws-sdk-go-v2/aws/signer/v4), the
// way an SDK client signs, and returns the signature. ok is false when
// the SDK would not sign exactly the headers the client signed (it leaves
// some out, e.g. User-Agent), so its signature cannot be the client's:
// the canonical forms in canonical.go decide then.
func resign(r *http.Request, values map[string][]string, auth authorization, payloadHash, secret string, signedAt time.Time) (signature string, ok bool) {
	t := requestTarget(r)
	path, err := url.PathUnescape(t.path)
	if err != nil {
		return "", false
	}
	c := &http.Request{
		Method: r.Method,
		URL:    &url.URL{Scheme: "https", Host: r.Host, Path: path, RawPath: t.path, RawQuery: t.query},
		Host:   r.Host,
		Header: http.Header{},
	}
	for _, name := range auth.signedHeaders {
		switch name {
		case "host":
			continue
		case "content-length":
			// The signer takes it from ContentLength, not from Header.
			if n, err := strconv.ParseInt(strings.Join(values[name], ""), 10, 64); err == nil {
				c.ContentLength = n
			}
			continue
		}
		for _, v := range values[name] {
			c.Header.Add(name, v)
		}
	}
	creds := aws.Credentials{AccessKeyID: auth.accessKeyID, SecretAccessKey: secret}
	if tok := c.Header.Get(headerSecurityToken); tok != "" {
		// The signer adds the token itself; keep it from appearing twice.
		creds.SessionToken = tok
		c.Header.Del(headerSecurityToken)
	}
	err = v4.NewSigner(func(o *v4.SignerOptions) { o.DisableHeaderHoisting = true }).
		SignHTTP(context.Background(), creds, c, payloadHash, auth.service, auth.region, signedAt)
	if err != nil {
		return "", false
	}
	params, err := parseParams(strings.TrimPrefix(c.Header.Get(headerAuthorization), algorithm+" "))
	if err != nil {
		return "", false
	}
	if !slices.Equal(strings.Split(params["SignedHeaders"], ";"), auth.signedHeaders) {
		return "", false
	}
	return params["Signature"], true
}
