package gateway

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// eventTimeLayout is requestContext.time's format, e.g.
// "28/Nov/2026:12:00:00 +0000".
const eventTimeLayout = "02/Jan/2006:15:04:05 -0700"

// request is what the gateway knows about one request by the time it
// invokes a function.
type request struct {
	r         *http.Request
	route     *compiledRoute
	params    map[string]string
	body      []byte
	caller    *Identity // nil on routes without IAM auth
	accessKey string
	requestID string
	traceID   string
	now       time.Time
}

// buildEvent assembles the payload format 2.0 event HTTP API would send.
func (g *gateway) buildEvent(req request) events.APIGatewayV2HTTPRequest {
	r := req.r
	sourceIP := remoteIP(r)
	headers, cookies := eventHeaders(r, req.body, sourceIP, req.traceID)
	body, isBase64 := eventBody(r.Header.Get("Content-Type"), req.body)
	return events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: req.route.Key(),
		// HTTP API delivers the path percent-decoded in both rawPath and
		// requestContext.http.path.
		RawPath:               r.URL.Path,
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: queryParameters(r.URL.RawQuery),
		PathParameters:        req.params,
		Body:                  body,
		IsBase64Encoded:       isBase64,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     req.route.Key(),
			AccountID:    g.cfg.AccountID,
			Stage:        g.cfg.Stage,
			RequestID:    req.requestID,
			Authorizer:   g.authorizer(req),
			APIID:        g.cfg.APIID,
			DomainName:   r.Host,
			DomainPrefix: domainPrefix(r.Host),
			Time:         req.now.UTC().Format(eventTimeLayout),
			TimeEpoch:    req.now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
}

// eventHeaders lower-cases header names and joins repeated headers with
// commas, moves cookies out into their own list, and adds the headers API
// Gateway adds on its way to the function.
func eventHeaders(r *http.Request, body []byte, sourceIP, traceID string) (map[string]string, []string) {
	headers := make(map[string]string, len(r.Header)+5)
	var cookies []string
	for name, values := range r.Header {
		lower := strings.ToLower(name)
		if lower == "cookie" {
			cookies = append(cookies, splitCookies(values)...)
			continue
		}
		joined := strings.Join(values, ",")
		if prev, ok := headers[lower]; ok {
			joined = prev + "," + joined
		}
		headers[lower] = joined
	}
	headers["host"] = r.Host
	if _, ok := headers["content-length"]; !ok && len(body) > 0 {
		headers["content-length"] = strconv.Itoa(len(body))
	}
	if prev := headers["x-forwarded-for"]; prev != "" {
		headers["x-forwarded-for"] = prev + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	headers["x-forwarded-proto"] = "http"
	if r.TLS != nil {
		headers["x-forwarded-proto"] = "https"
	}
	headers["x-forwarded-port"] = localPort(r)
	if _, ok := headers["x-amzn-trace-id"]; !ok {
		headers["x-amzn-trace-id"] = traceID
	}
	return headers, cookies
}

func splitCookies(values []string) []string {
	var cookies []string
	for _, v := range values {
		for c := range strings.SplitSeq(v, ";") {
			if c = strings.TrimSpace(c); c != "" {
				cookies = append(cookies, c)
			}
		}
	}
	return cookies
}

// queryParameters decodes the query string; repeated names are joined with
// commas, as payload format 2.0 does.
func queryParameters(raw string) map[string]string {
	if raw == "" {
		return nil
	}
	params := make(map[string]string)
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, v = unescapeQuery(k), unescapeQuery(v)
		if prev, ok := params[k]; ok {
			v = prev + "," + v
		}
		params[k] = v
	}
	if len(params) == 0 {
		return nil
	}
	return params
}

func unescapeQuery(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// textualTypes are the media types HTTP API passes as plain strings, as
// observed against AWS; every other body, including one without a
// Content-Type and (surprisingly) form posts, arrives base64-encoded.
var textualTypes = map[string]bool{
	"application/json":       true,
	"application/xml":        true,
	"application/javascript": true,
}

func eventBody(contentType string, body []byte) (string, bool) {
	if len(body) == 0 {
		return "", false
	}
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mediaType, _, _ = strings.Cut(strings.ToLower(contentType), ";")
		mediaType = strings.TrimSpace(mediaType)
	}
	// Invalid UTF-8 cannot survive a JSON string, so it goes as base64 even
	// under a textual type.
	if (strings.HasPrefix(mediaType, "text/") || textualTypes[mediaType]) && utf8.Valid(body) {
		return string(body), false
	}
	return base64.StdEncoding.EncodeToString(body), true
}

// authorizer is requestContext.authorizer.iam for the identity that signed
// the request, or nil on routes without IAM auth.
func (g *gateway) authorizer(req request) *events.APIGatewayV2HTTPRequestContextAuthorizerDescription {
	if req.caller == nil {
		return nil
	}
	account, userID := principalIDs(req.caller.PrincipalARN, g.cfg.AccountID)
	return &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{
			AccessKey: req.accessKey,
			AccountID: account,
			CallerID:  userID,
			UserARN:   req.caller.PrincipalARN,
			UserID:    userID,
		},
	}
}

// principalIDs derives the caller's account and a stable IAM-style unique
// ID from its ARN: AIDA... for users, AROA...:session for assumed roles, the
// account ID for root. The local identities have no real unique IDs, but
// functions may log or compare them, so they look and behave like AWS's.
func principalIDs(principalARN, fallbackAccount string) (account, userID string) {
	a, err := parseARN(principalARN)
	if err != nil {
		return fallbackAccount, ""
	}
	account = a.account
	if account == "" {
		account = fallbackAccount
	}
	switch {
	case a.resource == "root":
		return account, account
	case a.service == "sts" && strings.HasPrefix(a.resource, "assumed-role/"):
		parts := strings.SplitN(a.resource, "/", 3)
		session := ""
		if len(parts) == 3 {
			session = parts[2]
		}
		return account, "AROA" + pseudoID("role/"+parts[1]) + ":" + session
	case strings.HasPrefix(a.resource, "role/"):
		return account, "AROA" + pseudoID(a.resource)
	default:
		return account, "AIDA" + pseudoID(principalARN)
	}
}

// pseudoID is 17 characters from IAM's unique-ID alphabet, derived from s.
func pseudoID(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base32.StdEncoding.EncodeToString(sum[:])[:17]
}

func remoteIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// localPort is the port the client connected to, for x-forwarded-port.
func localPort(r *http.Request) string {
	if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, port, err := net.SplitHostPort(addr.String()); err == nil {
			return port
		}
	}
	if _, port, err := net.SplitHostPort(r.Host); err == nil {
		return port
	}
	if r.TLS != nil {
		return "443"
	}
	return "80"
}

// domainPrefix is the first label of the host name ("abc123" for
// abc123.execute-api.us-east-1.amazonaws.com); an IP address has none, so it
// is used whole.
func domainPrefix(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if net.ParseIP(host) != nil {
		return host
	}
	prefix, _, _ := strings.Cut(host, ".")
	return prefix
}

// wireEvent is events.APIGatewayV2HTTPRequest serialized the way AWS does.
// The aws-lambda-go types cannot express two details of real events: the IAM
// authorizer's cognitoIdentity and principalOrgId are null, and
// requestContext.authentication is absent unless mutual TLS is on. The
// fields declared here shadow the embedded ones with the same JSON names.
type wireEvent struct {
	events.APIGatewayV2HTTPRequest
	RequestContext wireRequestContext `json:"requestContext"`
}

type wireRequestContext struct {
	events.APIGatewayV2HTTPRequestContext
	Authentication *events.APIGatewayV2HTTPRequestContextAuthentication `json:"authentication,omitempty"`
	Authorizer     *wireAuthorizer                                      `json:"authorizer,omitempty"`
}

type wireAuthorizer struct {
	IAM *wireIAM `json:"iam,omitempty"`
}

type wireIAM struct {
	events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription
	CognitoIdentity *events.APIGatewayV2HTTPRequestContextAuthorizerCognitoIdentity `json:"cognitoIdentity"`
	PrincipalOrgID  *string                                                         `json:"principalOrgId"`
}

func marshalEvent(ev events.APIGatewayV2HTTPRequest) ([]byte, error) {
	w := wireEvent{
		APIGatewayV2HTTPRequest: ev,
		RequestContext:          wireRequestContext{APIGatewayV2HTTPRequestContext: ev.RequestContext},
	}
	if a := ev.RequestContext.Authorizer; a != nil && a.IAM != nil {
		w.RequestContext.Authorizer = &wireAuthorizer{IAM: &wireIAM{
			APIGatewayV2HTTPRequestContextAuthorizerIAMDescription: *a.IAM,
		}}
	}
	// AWS does not HTML-escape the event ("&" stays "&", not "\u0026").
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return nil, fmt.Errorf("marshal event: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
