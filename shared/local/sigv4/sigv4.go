package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"
)

const (
	algorithm       = "AWS4-HMAC-SHA256"
	scopeTerminator = "aws4_request"
	amzDateLayout   = "20060102T150405Z"
	scopeDateLayout = "20060102"

	// defaultMaxSkew is how far API Gateway lets a signature's time stray
	// from its own clock.
	defaultMaxSkew = 5 * time.Minute

	headerAuthorization = "Authorization"
	headerAmzDate       = "X-Amz-Date"
	headerSecurityToken = "x-amz-security-token"
	headerContentSHA256 = "x-amz-content-sha256"
)

// Verifier checks SigV4 Authorization headers against a set of known
// credentials. The zero value is not usable: Region, Service and Lookup are
// required.
type Verifier struct {
	// Region and Service are what the credential scope must name, e.g.
	// "us-east-1" and "execute-api".
	Region, Service string
	// Lookup returns the secret access key of an access key ID.
	Lookup func(accessKeyID string) (secret string, ok bool)
	// Now is the verifier's clock; nil means time.Now.
	Now func() time.Time
	// MaxSkew is how far X-Amz-Date may be from Now, either way; zero means
	// five minutes, as in AWS.
	MaxSkew time.Duration
}

// authorization is a parsed Authorization header.
type authorization struct {
	accessKeyID   string
	scopeDate     string
	region        string
	service       string
	terminator    string
	signedHeaders []string
	signature     string
}

// Verify checks that r, whose body has already been read into body, carries
// a valid SigV4 signature from a known access key, and returns that key's ID.
//
// Every error is an *Error. When the Authorization header could be parsed,
// the access key ID is returned alongside the error so that callers can log
// who was refused; it must not be treated as authenticated.
func (v *Verifier) Verify(r *http.Request, body []byte) (accessKeyID string, err error) {
	auth, err := parseAuthorization(r.Header)
	if err != nil {
		return "", err
	}
	signedAt, amzDate, err := requestTime(r.Header)
	if err != nil {
		return auth.accessKeyID, err
	}
	if err := v.checkScope(auth, amzDate); err != nil {
		return auth.accessKeyID, err
	}
	if err := v.checkSkew(signedAt); err != nil {
		return auth.accessKeyID, err
	}
	if err := checkRequiredSigned(auth.signedHeaders, r.Header); err != nil {
		return auth.accessKeyID, err
	}
	secret, ok := v.lookup(auth.accessKeyID)
	if !ok {
		return auth.accessKeyID, newError(CodeUnrecognizedClient, ReasonUnknownAccessKey,
			"The security token included in the request is invalid: the access key ID is not known to this gateway.")
	}
	if err := checkSignature(r, body, auth, amzDate, secret); err != nil {
		return auth.accessKeyID, err
	}
	return auth.accessKeyID, nil
}

func (v *Verifier) lookup(accessKeyID string) (string, bool) {
	if v.Lookup == nil {
		return "", false
	}
	return v.Lookup(accessKeyID)
}

func (v *Verifier) now() time.Time {
	if v.Now == nil {
		return time.Now()
	}
	return v.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew <= 0 {
		return defaultMaxSkew
	}
	return v.MaxSkew
}

// parseAuthorization parses
// "AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request,
// SignedHeaders=a;b, Signature=hex".
func parseAuthorization(h http.Header) (authorization, error) {
	values := h.Values(headerAuthorization)
	if len(values) == 0 || strings.TrimSpace(values[0]) == "" {
		return authorization{}, newError(CodeMissingAuthenticationToken, ReasonMissingAuthorization,
			"Missing Authentication Token")
	}
	if len(values) > 1 {
		return authorization{}, malformed("Only one Authorization header is allowed.")
	}
	scheme, rest, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	if scheme != algorithm {
		return authorization{}, malformed("Authorization header must use the " + algorithm + " algorithm.")
	}
	params, err := parseParams(rest)
	if err != nil {
		return authorization{}, err
	}
	auth, err := parseCredential(params["Credential"])
	if err != nil {
		return authorization{}, err
	}
	auth.signature = params["Signature"]
	auth.signedHeaders = strings.Split(strings.ToLower(params["SignedHeaders"]), ";")
	return auth, nil
}

// parseParams splits the comma-separated key=value list after the algorithm
// and insists on the three parameters SigV4 needs, naming all missing ones
// at once as AWS does.
func parseParams(s string) (map[string]string, error) {
	params := make(map[string]string, 3)
	for part := range strings.SplitSeq(s, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		if _, dup := params[k]; dup {
			return nil, malformed("Authorization header has a duplicate '" + quote(k) + "' parameter.")
		}
		params[k] = val
	}
	var missing []string
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		if params[k] == "" {
			missing = append(missing, "Authorization header requires '"+k+"' parameter.")
		}
	}
	if len(missing) > 0 {
		return nil, malformed(strings.Join(missing, " "))
	}
	return params, nil
}

func parseCredential(c string) (authorization, error) {
	parts := strings.Split(c, "/")
	if len(parts) != 5 || parts[0] == "" {
		return authorization{}, malformed(
			"Authorization header's Credential must be <access key ID>/<YYYYMMDD>/<region>/<service>/aws4_request.")
	}
	return authorization{
		accessKeyID: parts[0],
		scopeDate:   parts[1],
		region:      parts[2],
		service:     parts[3],
		terminator:  parts[4],
	}, nil
}

func malformed(message string) *Error {
	return newError(CodeIncompleteSignature, ReasonMalformedAuthorization, message)
}

// requestTime reads X-Amz-Date, the time the string to sign names.
func requestTime(h http.Header) (time.Time, string, error) {
	amzDate := strings.TrimSpace(h.Get(headerAmzDate))
	if amzDate == "" {
		return time.Time{}, "", newError(CodeIncompleteSignature, ReasonMissingDate,
			"Authorization header requires existence of a 'X-Amz-Date' header.")
	}
	t, err := time.Parse(amzDateLayout, amzDate)
	if err != nil {
		return time.Time{}, "", newError(CodeIncompleteSignature, ReasonMissingDate,
			"X-Amz-Date must be in ISO-8601 basic format (YYYYMMDD'T'HHMMSS'Z').")
	}
	return t, amzDate, nil
}

// checkScope compares the credential scope with the date being signed and
// the region and service this verifier stands for.
func (v *Verifier) checkScope(auth authorization, amzDate string) error {
	if date := amzDate[:len(scopeDateLayout)]; auth.scopeDate != date {
		return newError(CodeInvalidSignature, ReasonScopeDate, fmt.Sprintf(
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from 'X-Amz-Date'.",
			quote(auth.scopeDate), date))
	}
	if auth.region != v.Region {
		return newError(CodeInvalidSignature, ReasonScopeRegion, fmt.Sprintf(
			"Credential should be scoped to a valid region, not '%s'. Expected '%s'.", quote(auth.region), v.Region))
	}
	if auth.service != v.Service {
		return newError(CodeInvalidSignature, ReasonScopeService, fmt.Sprintf(
			"Credential should be scoped to correct service: '%s', not '%s'.", v.Service, quote(auth.service)))
	}
	if auth.terminator != scopeTerminator {
		return newError(CodeInvalidSignature, ReasonScopeTerminator, fmt.Sprintf(
			"Credential should be scoped with a valid terminator: '%s', not '%s'.", scopeTerminator, quote(auth.terminator)))
	}
	return nil
}

// checkSkew rejects signatures made too long ago (replays) or too far in the
// future, with AWS's wording.
func (v *Verifier) checkSkew(signedAt time.Time) error {
	now, skew := v.now().UTC(), v.maxSkew()
	switch {
	case signedAt.Before(now.Add(-skew)):
		return newError(CodeInvalidSignature, ReasonSkew, fmt.Sprintf(
			"Signature expired: %s is now earlier than %s (%s - %s.)",
			signedAt.Format(amzDateLayout), now.Add(-skew).Format(amzDateLayout), now.Format(amzDateLayout), formatSkew(skew)))
	case signedAt.After(now.Add(skew)):
		return newError(CodeInvalidSignature, ReasonSkew, fmt.Sprintf(
			"Signature not yet current: %s is still later than %s (%s + %s.)",
			signedAt.Format(amzDateLayout), now.Add(skew).Format(amzDateLayout), now.Format(amzDateLayout), formatSkew(skew)))
	}
	return nil
}

func formatSkew(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return d.String()
}

// checkRequiredSigned enforces the headers that must be covered by the
// signature: host always (otherwise a signature could be replayed against
// another API), and the session token whenever one is sent.
func checkRequiredSigned(signed []string, h http.Header) error {
	if !contains(signed, "host") {
		return newError(CodeIncompleteSignature, ReasonHostNotSigned,
			"'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if h.Get(headerSecurityToken) != "" && !contains(signed, headerSecurityToken) {
		return newError(CodeIncompleteSignature, ReasonTokenNotSigned,
			"'X-Amz-Security-Token' is present but not a 'SignedHeader' in the AWS Authorization.")
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// checkSignature signs the request again with the SDK's signer, as an SDK
// client would have (resign), and when that does not match, recomputes
// the signature over every other accepted canonical form of the request;
// each comparison is in constant time.
func checkSignature(r *http.Request, body []byte, auth authorization, amzDate, secret string) error {
	values := headerValues(r)
	headers, missing := canonicalHeaders(auth.signedHeaders, values)
	if missing != "" {
		return newError(CodeInvalidSignature, ReasonSignedHeaderMissing, fmt.Sprintf(
			"Signed header '%s' is not present in the request.", quote(missing)))
	}
	payloadHash, err := payloadHash(r.Header, auth.signedHeaders, body)
	if err != nil {
		return err
	}
	got := []byte(auth.signature)
	if signedAt, err := time.Parse(amzDateLayout, amzDate); err == nil {
		if sdk, ok := resign(r, values, auth, payloadHash, secret, signedAt); ok && hmac.Equal([]byte(sdk), got) {
			return nil
		}
	}
	scope := strings.Join([]string{auth.scopeDate, auth.region, auth.service, scopeTerminator}, "/")
	key := signingKey(secret, auth.scopeDate, auth.region, auth.service)
	signedHeaders := strings.Join(auth.signedHeaders, ";")
	for _, t := range requestTarget(r).candidates() {
		creq := canonicalRequest(r.Method, t, headers, signedHeaders, payloadHash)
		want := hex.EncodeToString(hmacSHA256(key, stringToSign(amzDate, scope, creq)))
		if hmac.Equal([]byte(want), got) {
			return nil
		}
	}
	return newError(CodeInvalidSignature, ReasonSignatureMismatch,
		"The request signature we calculated does not match the signature you provided. "+
			"Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
}

// payloadHash is the hex SHA-256 of the body. A signed X-Amz-Content-Sha256
// header is what the client put in its canonical request, so it is used
// instead, but only after checking it really is the body's hash: the gateway
// authorizes what the body asks for, so an unsigned body is not accepted.
func payloadHash(h http.Header, signed []string, body []byte) (string, error) {
	sum := sha256.Sum256(body)
	actual := hex.EncodeToString(sum[:])
	if !contains(signed, headerContentSHA256) {
		return actual, nil
	}
	claimed := strings.TrimSpace(h.Get(headerContentSHA256))
	if claimed != actual {
		return "", newError(CodeInvalidSignature, ReasonPayloadHash,
			"The provided 'x-amz-content-sha256' header does not match what was computed (it must be the hex SHA-256 of the body).")
	}
	return claimed, nil
}

func stringToSign(amzDate, scope, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return strings.Join([]string{algorithm, amzDate, scope, hex.EncodeToString(sum[:])}, "\n")
}

func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, scopeTerminator)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// quote makes a client-supplied string safe to echo in a message: printable
// ASCII only, and short.
func quote(s string) string {
	const maxLen = 64
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < maxLen; i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '\'' {
			b.WriteByte('?')
			continue
		}
		b.WriteByte(c)
	}
	if len(s) > maxLen {
		b.WriteString("...")
	}
	return b.String()
}
