package cloud

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/jitaccess/jit/shared/local/gateway"
)

// The client side of the local HTTP API, for the tests and tools that call
// it as a local identity: what the jit CLI does with real AWS credentials,
// without the CLI's retries and error hints.

// Identity returns the local identity called name.
func (c *Cloud) Identity(name string) (gateway.Identity, error) {
	for _, id := range c.Identities {
		if id.Name == name {
			return id, nil
		}
	}
	return gateway.Identity{}, fmt.Errorf("no identity %q", name)
}

// CallAPI sends method path (with its query) to the local HTTP API with
// body and headers, signed as the local identity who, or unsigned when who
// is "", and reads the reply whole. It has no timeout of its own (ctx may
// set one) and does not follow redirects, so a 303 is seen as the gateway
// sent it. (Not named Call: that is the type of an AWS call seen at the
// edge.)
func (c *Cloud) CallAPI(ctx context.Context, who, method, path string, body []byte, headers map[string]string) (Reply, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.APIURL+path, bytes.NewReader(body))
	if err != nil {
		return Reply{}, err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if who != "" {
		id, err := c.Identity(who)
		if err != nil {
			return Reply{}, err
		}
		if err := Sign(req, body, id); err != nil {
			return Reply{}, err
		}
	}
	return Send(req)
}

// CallJSON is CallAPI with body, unless nil, sent as JSON, and the reply
// decoded by Reply.Object: a reply that is not a JSON object is an error.
func (c *Cloud) CallJSON(ctx context.Context, who, method, path string, body any) (int, map[string]any, error) {
	var raw []byte
	var headers map[string]string
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
		}
		headers = map[string]string{"Content-Type": "application/json"}
	}
	r, err := c.CallAPI(ctx, who, method, path, raw, headers)
	if err != nil {
		return r.Code, nil, err
	}
	m, err := r.Object()
	if err != nil {
		return r.Code, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return r.Code, m, nil
}

// Sign signs req, whose body is body, with SigV4 as id, as the local HTTP
// API checks it: for the service execute-api in Region, now.
func Sign(req *http.Request, body []byte, id gateway.Identity) error {
	return SignFor(req, body, id, "execute-api", Region, time.Now())
}

// SignFor is Sign for a chosen service, region and signing time: tests of
// refused signatures sign for the wrong ones.
func SignFor(req *http.Request, body []byte, id gateway.Identity, service, region string, at time.Time) error {
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: id.AccessKeyID, SecretAccessKey: id.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(req.Context(), creds, req, hex.EncodeToString(sum[:]), service, region, at); err != nil {
		return fmt.Errorf("sign %s %s as %s: %w", req.Method, req.URL.Path, id.Name, err)
	}
	return nil
}

// Send sends req and reads the reply whole, without following redirects.
func Send(req *http.Request) (Reply, error) {
	resp, err := noRedirects.Do(req)
	if err != nil {
		return Reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return Reply{Code: resp.StatusCode, Header: resp.Header, Body: b}, err
}

// noRedirects is the default client but for redirects, which it answers
// with as they are.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// Reply is one HTTP response, read whole.
type Reply struct {
	Code   int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as a JSON object; nil when it is not one.
func (r Reply) JSON() map[string]any {
	m, _ := r.Object()
	return m
}

// Object decodes the body as a JSON object: nil for an empty body, an
// error quoting the body for one that is not an object.
func (r Reply) Object() (map[string]any, error) {
	if len(r.Body) == 0 {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		return nil, fmt.Errorf("%d, body not JSON: %s", r.Code, r.Body)
	}
	return m, nil
}

// S3 sends one path-style S3 call straight to the emulator, signed with
// its test keys, and reads the reply whole: the module has no S3 client,
// and what the tests do with S3 (create a bucket, list it, get an
// object of a table export) does not need one.
func (c *Cloud) S3(ctx context.Context, method, path string, query url.Values) (Reply, error) {
	u := c.EdgeURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return Reply{}, err
	}
	sum := sha256.Sum256(nil)
	req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
	if err := SignFor(req, nil, gateway.Identity{Name: "emulator", AccessKeyID: "test", SecretAccessKey: "test"}, "s3", Region, time.Now()); err != nil {
		return Reply{}, err
	}
	return Send(req)
}
