package gateway

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

const methodAny = "ANY"

// segmentKind orders path segments by specificity: when several routes
// match, HTTP API picks the one whose segments are most specific, earliest
// segment first.
type segmentKind int

const (
	kindLiteral segmentKind = iota
	kindParam
	kindGreedy
)

type segment struct {
	kind  segmentKind
	value string // the literal text, or the parameter name
}

type compiledRoute struct {
	Route
	segments []segment
}

// router holds the routes in configuration order.
type router struct {
	routes []compiledRoute
}

func newRouter(routes []Route) (*router, error) {
	rt := &router{routes: make([]compiledRoute, 0, len(routes))}
	seen := make(map[string]bool, len(routes))
	var errs []error
	for _, r := range routes {
		c, err := compileRoute(r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[c.Key()] {
			errs = append(errs, fmt.Errorf("route %q: defined twice", c.Key()))
			continue
		}
		seen[c.Key()] = true
		rt.routes = append(rt.routes, c)
	}
	return rt, errors.Join(errs...)
}

// compileRoute validates a route the way HTTP API does when it is created:
// a path variable is a whole segment, and a greedy one comes last.
func compileRoute(r Route) (compiledRoute, error) {
	r.Method = strings.ToUpper(strings.TrimSpace(r.Method))
	c := compiledRoute{Route: r}
	fail := func(format string, args ...any) (compiledRoute, error) {
		return compiledRoute{}, fmt.Errorf("route %q: %s", r.Key(), fmt.Sprintf(format, args...))
	}
	if r.Method == "" || strings.ContainsAny(r.Method, " /{}") {
		return fail("invalid method")
	}
	if r.Function == "" {
		return fail("no function")
	}
	if !strings.HasPrefix(r.Path, "/") {
		return fail("path must start with /")
	}
	if r.Path == "/" {
		return c, nil
	}
	parts := strings.Split(r.Path[1:], "/")
	for i, part := range parts {
		seg, err := parseSegment(part)
		if err != nil {
			return fail("segment %d: %v", i+1, err)
		}
		if seg.kind == kindGreedy && i != len(parts)-1 {
			return fail("greedy variable {%s+} must be the last segment", seg.value)
		}
		c.segments = append(c.segments, seg)
	}
	return c, nil
}

func parseSegment(s string) (segment, error) {
	switch {
	case s == "":
		return segment{}, errors.New("empty segment")
	case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
		name := s[1 : len(s)-1]
		kind := kindParam
		if n, ok := strings.CutSuffix(name, "+"); ok {
			name, kind = n, kindGreedy
		}
		if name == "" || strings.ContainsAny(name, "{}+") {
			return segment{}, fmt.Errorf("invalid path variable %q", s)
		}
		return segment{kind: kind, value: name}, nil
	case strings.ContainsAny(s, "{}"):
		return segment{}, fmt.Errorf("path variable %q must be a whole segment", s)
	default:
		return segment{kind: kindLiteral, value: s}, nil
	}
}

// match finds the most specific route for method and the escaped request
// path, returning its decoded path parameters (nil when it has none).
// Matching works on escaped segments so that an encoded "/" inside a
// parameter does not split it.
func (rt *router) match(method, escapedPath string) (*compiledRoute, map[string]string) {
	segs := splitPath(escapedPath)
	var (
		best       *compiledRoute
		bestParams map[string]string
	)
	for i := range rt.routes {
		r := &rt.routes[i]
		if r.Method != method && r.Method != methodAny {
			continue
		}
		params, ok := r.matchPath(segs)
		if !ok {
			continue
		}
		if best == nil || r.moreSpecificThan(best) {
			best, bestParams = r, params
		}
	}
	return best, bestParams
}

func splitPath(p string) []string {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func (r *compiledRoute) matchPath(segs []string) (map[string]string, bool) {
	var params map[string]string
	set := func(name, value string) {
		if params == nil {
			params = make(map[string]string, len(r.segments))
		}
		params[name] = value
	}
	for i, seg := range r.segments {
		if seg.kind == kindGreedy {
			rest := decodeSegments(segs[min(i, len(segs)):])
			if rest == "" {
				return nil, false
			}
			set(seg.value, rest)
			return params, true
		}
		if i >= len(segs) {
			return nil, false
		}
		value := decodeSegment(segs[i])
		switch {
		case seg.kind == kindParam && value != "":
			set(seg.value, value)
		case seg.kind == kindLiteral && value == seg.value:
		default:
			return nil, false
		}
	}
	return params, len(segs) == len(r.segments)
}

// moreSpecificThan compares two routes that both matched: the first segment
// where they differ decides (literal over variable over greedy), then a
// longer template, then a named method over ANY.
func (r *compiledRoute) moreSpecificThan(o *compiledRoute) bool {
	for i := 0; i < len(r.segments) && i < len(o.segments); i++ {
		if a, b := r.segments[i].kind, o.segments[i].kind; a != b {
			return a < b
		}
	}
	if len(r.segments) != len(o.segments) {
		return len(r.segments) > len(o.segments)
	}
	return r.Method != methodAny && o.Method == methodAny
}

func decodeSegment(s string) string {
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}

func decodeSegments(segs []string) string {
	decoded := make([]string, len(segs))
	for i, s := range segs {
		decoded[i] = decodeSegment(s)
	}
	return strings.Join(decoded, "/")
}
