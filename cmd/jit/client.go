package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/jitaccess/jit/shared/access"
)

// client calls the jit API, signing every call with SigV4 for
// execute-api, and retries what is safe to retry.
type client struct {
	base *url.URL
	// source says where base came from (--api-url, JIT_API_URL, stack …),
	// for error messages.
	source string
	region string
	creds  aws.CredentialsProvider
	hc     *http.Client
	signer *v4.Signer
	now    func() time.Time
	// logf logs each call with --verbose; a no-op otherwise.
	logf  func(format string, args ...any)
	retry []time.Duration
}

// response is a successful API answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// apiError is an answer of 400 or more: the API's {"error","message",
// "field"}, or API Gateway's own {"message"} (AWSType set for signature
// failures).
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field"`
	// Problems come with invalid_policy: every problem with its line.
	Problems []policyProblem `json:"problems"`
	AWSType  string          `json:"-"`
	Method   string          `json:"-"`
	Path     string          `json:"-"`
	Region   string          `json:"-"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.Path, e.Status, firstNonEmpty(e.Code, e.AWSType), e.Message)
}

// netError is a call that got no HTTP answer.
type netError struct {
	Method string
	URL    *url.URL
	Source string
	Err    error
}

func (e *netError) Error() string {
	return fmt.Sprintf("cannot reach the jit API at %s: %v", e.URL.Redacted(), unwrapURLError(e.Err))
}

func (e *netError) Unwrap() error { return e.Err }

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// credsError is a failure to get AWS credentials to sign with.
type credsError struct{ Err error }

func (e *credsError) Error() string { return "AWS credentials: " + e.Err.Error() }
func (e *credsError) Unwrap() error { return e.Err }

const userAgent = "jit-cli"

// rawBody is a body sent as it is (a YAML policy), not as JSON.
type rawBody struct {
	data        []byte
	contentType string
}

// do sends one API call. body, if not nil, is sent as JSON, or as it is if
// it is a rawBody. GETs and calls
// with an Idempotency-Key are retried on network failures, 429 and 5xx
// answers that did not come from jit itself.
func (c *client) do(ctx context.Context, method, path string, query url.Values, body any, header map[string]string) (*response, error) {
	var raw []byte
	contentType := ""
	switch b := body.(type) {
	case nil:
	case rawBody:
		raw, contentType = b.data, b.contentType
	default:
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return nil, err
		}
		contentType = "application/json"
	}
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + path
	u.RawPath = ""
	u.RawQuery = query.Encode()
	idempotent := method == http.MethodGet || header["Idempotency-Key"] != ""
	for attempt := 0; ; attempt++ {
		resp, err := c.once(ctx, method, &u, raw, contentType, header)
		retry := idempotent && attempt < len(c.retry) && ctx.Err() == nil && retryable(resp, err)
		if !retry {
			if err != nil {
				return nil, err
			}
			if resp.Status >= 400 {
				return nil, c.apiError(method, path, resp)
			}
			return resp, nil
		}
		c.logf("retrying %s %s in %s", method, path, c.retry[attempt])
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(c.retry[attempt]):
		}
	}
}

func (c *client) once(ctx context.Context, method string, u *url.URL, raw []byte, contentType string, header map[string]string) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent+"/"+buildVersion())
	for k, v := range header {
		req.Header.Set(k, v)
	}
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &credsError{Err: err}
	}
	sum := sha256.Sum256(raw)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "execute-api", c.region, c.now()); err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c.logf("%s %s: %v", method, u.Path, err)
		return nil, &netError{Method: method, URL: c.base, Source: c.source, Err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, &netError{Method: method, URL: c.base, Source: c.source, Err: err}
	}
	c.logf("%s %s -> %d (%s)", method, u.Path, resp.StatusCode, time.Since(start).Round(time.Millisecond))
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// retryable: no answer (except a refused connection: nothing listens, and
// waiting will not change that), throttling, or a 5xx that jit itself did
// not decide (jit's own 503s say why and retrying the same call repeats them).
func retryable(resp *response, err error) bool {
	if err != nil {
		var ce *credsError
		if errors.As(err, &ce) || errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(err.Error(), "connection refused") {
			return false
		}
		var ne *netError
		return errors.As(err, &ne)
	}
	switch resp.Status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusGatewayTimeout, http.StatusInternalServerError:
		return true
	case http.StatusServiceUnavailable:
		var body struct {
			Code string `json:"error"`
		}
		_ = json.Unmarshal(resp.Body, &body)
		return body.Code == ""
	}
	return false
}

func (c *client) apiError(method, path string, resp *response) *apiError {
	e := &apiError{Status: resp.Status, Method: method, Path: path, Region: c.region,
		AWSType: resp.Header.Get("X-Amzn-Errortype")}
	if i := strings.IndexByte(e.AWSType, ':'); i >= 0 {
		e.AWSType = e.AWSType[:i]
	}
	// encoding/json matches keys case-insensitively, so this also reads
	// API Gateway's {"message"} and AWS's {"Message"}.
	if json.Unmarshal(resp.Body, e) != nil {
		e.Code, e.Message, e.Field, e.Problems = "", "", "", nil
	}
	if e.Message == "" {
		s := strings.TrimSpace(string(resp.Body))
		if len(s) > 200 {
			s = s[:200] + "…"
		}
		e.Message = firstNonEmpty(s, http.StatusText(resp.Status))
	}
	return e
}

// getJSON reads path into dst and returns the raw body too.
func (c *client) getJSON(ctx context.Context, path string, query url.Values, dst any) ([]byte, error) {
	resp, err := c.do(ctx, http.MethodGet, path, query, nil, nil)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(resp.Body, dst); err != nil {
		return nil, fmt.Errorf("GET %s: the answer is not the JSON jit expects: %w", path, err)
	}
	return resp.Body, nil
}

// getRequest reads one request with its history.
func (c *client) getRequest(ctx context.Context, id string) (*request, error) {
	var r request
	raw, err := c.getJSON(ctx, "/v1/requests/"+url.PathEscape(id), nil, &r)
	if err != nil {
		return nil, err
	}
	r.raw = raw
	return &r, nil
}

// request is an access request as the API shows it (access.View). raw
// keeps the API's JSON so --output json passes on fields this version does
// not know.
type request struct {
	access.View

	raw json.RawMessage
}

// policyProblem is one problem of an invalid policy document.
type policyProblem struct {
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p policyProblem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("line %d: %s: %s", p.Line, p.Field, p.Message)
	}
	return fmt.Sprintf("%s: %s", p.Field, p.Message)
}
