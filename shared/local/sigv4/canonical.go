package sigv4

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// target is the request path and query string exactly as the client sent
// them, before any decoding by net/http.
type target struct {
	path  string
	query string
}

// requestTarget recovers the path and query string as they were on the wire.
// A server-side request carries them in RequestURI; a request built by a
// client (as in tests) only has the URL, whose escaped form is what the
// client would send.
func requestTarget(r *http.Request) target {
	var t target
	if r.URL != nil {
		t.query = r.URL.RawQuery
	}
	switch {
	case r.RequestURI != "" && r.RequestURI != "*":
		p, _, _ := strings.Cut(r.RequestURI, "?")
		t.path = stripAuthority(p)
	case r.URL != nil && r.URL.Opaque != "":
		// Same convention as the SDK signer: Opaque is "//host/path".
		t.path = stripAuthority("http:" + r.URL.Opaque)
	case r.URL != nil:
		t.path = r.URL.EscapedPath()
	}
	if t.path == "" {
		t.path = "/"
	}
	return t
}

// stripAuthority turns an absolute-form request target
// ("http://host/path", sent to proxies) into its path.
func stripAuthority(p string) string {
	for _, scheme := range []string{"http://", "https://"} {
		if rest, ok := strings.CutPrefix(p, scheme); ok {
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				return rest[i:]
			}
			return "/"
		}
	}
	return p
}

// candidates lists the (canonical URI, canonical query string) pairs a
// signature may have been computed over, the AWS form first. See the package
// comment for why more than one is accepted.
func (t target) candidates() []target {
	paths := []string{encodeURI(t.path, false), t.path}
	queries := []string{canonicalQuery(t.query), t.query}
	out := make([]target, 0, 4)
	seen := make(map[target]bool, 4)
	for _, p := range paths {
		for _, q := range queries {
			c := target{path: p, query: q}
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// encodeURI percent-encodes every byte outside the RFC 3986 unreserved set
// with upper-case hex, as SigV4 requires. Applied to a path that is already
// percent-encoded, it produces the double encoding AWS uses for every service
// except S3; encodeSlash is false for paths and true for query components.
func encodeURI(s string, encodeSlash bool) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || (c == '/' && !encodeSlash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0x0f])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// canonicalQuery decodes each name and value, re-encodes them strictly and
// sorts the pairs after encoding, as SigV4 specifies ("flag" becomes "flag=",
// "+" and "%20" both become "%20"). A component whose escapes are invalid is
// encoded as it stands, so it still takes part in the signature.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type pair struct{ key, value string }
	var pairs []pair
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		pairs = append(pairs, pair{
			key:   encodeURI(unescapeQuery(k), true),
			value: encodeURI(unescapeQuery(v), true),
		})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].key != pairs[j].key {
			return pairs[i].key < pairs[j].key
		}
		return pairs[i].value < pairs[j].value
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

func unescapeQuery(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// headerValues indexes the request's headers by lower-case name, adding the
// ones net/http moves out of Header on the server side (Host, and
// Content-Length / Transfer-Encoding when it consumed them).
func headerValues(r *http.Request) map[string][]string {
	names := make([]string, 0, len(r.Header))
	for name := range r.Header {
		names = append(names, name)
	}
	// Sorted so that two spellings of one name ("X-A" and "x-a", possible
	// only on hand-built requests) always merge in the same order.
	sort.Strings(names)
	values := make(map[string][]string, len(names)+1)
	for _, name := range names {
		lower := strings.ToLower(name)
		values[lower] = append(values[lower], r.Header[name]...)
	}
	values["host"] = []string{r.Host}
	if _, ok := values["content-length"]; !ok && r.ContentLength > 0 {
		values["content-length"] = []string{strconv.FormatInt(r.ContentLength, 10)}
	}
	if _, ok := values["transfer-encoding"]; !ok && len(r.TransferEncoding) > 0 {
		values["transfer-encoding"] = []string{strings.Join(r.TransferEncoding, ",")}
	}
	return values
}

// canonicalHeaders renders the signed headers as "name:value\n" lines:
// values trimmed, runs of spaces collapsed, several values joined by commas.
// It reports the first signed header the request does not carry.
func canonicalHeaders(signed []string, values map[string][]string) (string, string) {
	var b strings.Builder
	for _, name := range signed {
		vs, ok := values[name]
		if !ok {
			return "", name
		}
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range vs {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(collapseSpaces(strings.TrimSpace(v)))
		}
		b.WriteByte('\n')
	}
	return b.String(), ""
}

// collapseSpaces turns runs of spaces into one space. Only ' ' is collapsed,
// matching the SDK signer, whose signatures are the ones that must verify.
func collapseSpaces(s string) string {
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	prevSpace := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' && prevSpace {
			continue
		}
		prevSpace = c == ' '
		b.WriteByte(c)
	}
	return b.String()
}

// canonicalRequest joins the parts of a SigV4 canonical request.
func canonicalRequest(method string, t target, headers, signedHeaders, payloadHash string) string {
	return strings.Join([]string{method, t.path, t.query, headers, signedHeaders, payloadHash}, "\n")
}
