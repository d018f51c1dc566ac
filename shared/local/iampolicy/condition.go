package iampolicy

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// baseOp is a condition operator without its set qualifier and IfExists.
type baseOp struct {
	name    string
	negated bool // true for the Not forms: a missing key satisfies them
	match   func(ctxValue, policyValue string) bool
}

var baseOps = map[string]baseOp{}

func init() {
	add := func(name string, negated bool, match func(string, string) bool) {
		baseOps[name] = baseOp{name: name, negated: negated, match: match}
	}
	eq := func(a, b string) bool { return a == b }
	fold := strings.EqualFold
	like := func(v, p string) bool { return Glob(p, v) }
	add("StringEquals", false, eq)
	add("StringNotEquals", true, eq)
	add("StringEqualsIgnoreCase", false, fold)
	add("StringNotEqualsIgnoreCase", true, fold)
	add("StringLike", false, like)
	add("StringNotLike", true, like)
	add("ArnEquals", false, arnLike)
	add("ArnLike", false, arnLike)
	add("ArnNotEquals", true, arnLike)
	add("ArnNotLike", true, arnLike)
	add("Bool", false, func(v, p string) bool { return strings.EqualFold(v, p) })
	add("NumericEquals", false, numeric(func(a, b float64) bool { return a == b }))
	add("NumericNotEquals", true, numeric(func(a, b float64) bool { return a == b }))
	add("NumericLessThan", false, numeric(func(a, b float64) bool { return a < b }))
	add("NumericLessThanEquals", false, numeric(func(a, b float64) bool { return a <= b }))
	add("NumericGreaterThan", false, numeric(func(a, b float64) bool { return a > b }))
	add("NumericGreaterThanEquals", false, numeric(func(a, b float64) bool { return a >= b }))
	add("DateEquals", false, date(func(a, b time.Time) bool { return a.Equal(b) }))
	add("DateNotEquals", true, date(func(a, b time.Time) bool { return a.Equal(b) }))
	add("DateLessThan", false, date(func(a, b time.Time) bool { return a.Before(b) }))
	add("DateLessThanEquals", false, date(func(a, b time.Time) bool { return !a.After(b) }))
	add("DateGreaterThan", false, date(func(a, b time.Time) bool { return a.After(b) }))
	add("DateGreaterThanEquals", false, date(func(a, b time.Time) bool { return !a.Before(b) }))
}

func parseCondition(operator, key string, raw json.RawMessage) (Condition, error) {
	c := Condition{Operator: operator, Key: key}
	name := operator
	if set, rest, ok := strings.Cut(name, ":"); ok {
		if set != "ForAnyValue" && set != "ForAllValues" {
			return c, fmt.Errorf("condition operator %q: unknown qualifier %q", operator, set)
		}
		c.set, name = set, rest
	}
	if n, ok := strings.CutSuffix(name, "IfExists"); ok && n != "" {
		c.ifExists, name = true, n
	}
	values, err := stringList(raw)
	if err != nil {
		return c, fmt.Errorf("condition %s %s: %w", operator, key, err)
	}
	c.Values = values
	if name == "Null" {
		if c.set != "" || c.ifExists {
			return c, fmt.Errorf("condition operator %q: Null takes no qualifier", operator)
		}
		c.op = baseOp{name: "Null"}
		return c, nil
	}
	op, ok := baseOps[name]
	if !ok {
		return c, fmt.Errorf("condition operator %q is not evaluated by the local cloud", operator)
	}
	c.op = op
	return c, nil
}

// holds reports whether the condition is true for the request context.
// The rules are AWS's: a missing key makes a condition false, except for
// the negated operators, IfExists and ForAllValues, for which it is true;
// several policy values are alternatives (for a negated operator: none of
// them may match).
func (c Condition) holds(ctx Context) bool {
	got, present := ctx.Values(c.Key)
	if c.op.name == "Null" {
		for _, v := range c.Values {
			if strings.EqualFold(v, "true") == present {
				return false
			}
		}
		return true
	}
	if !present {
		return c.ifExists || c.op.negated || c.set == "ForAllValues"
	}
	values := make([]string, 0, len(c.Values))
	for _, v := range c.Values {
		if s, ok := substitute(v, ctx); ok {
			values = append(values, s)
		}
	}
	// ok is the per-value outcome: the value matches one of the policy's
	// (for a negated operator, none of them).
	ok := func(v string) bool {
		m := false
		for _, p := range values {
			if c.op.match(v, p) {
				m = true
				break
			}
		}
		return m != c.op.negated
	}
	switch {
	case c.set == "ForAllValues" || c.set == "" && c.op.negated:
		for _, v := range got {
			if !ok(v) {
				return false
			}
		}
		return true
	default:
		for _, v := range got {
			if ok(v) {
				return true
			}
		}
		return false
	}
}

func numeric(cmp func(a, b float64) bool) func(string, string) bool {
	return func(v, p string) bool {
		a, err1 := strconv.ParseFloat(v, 64)
		b, err2 := strconv.ParseFloat(p, 64)
		return err1 == nil && err2 == nil && cmp(a, b)
	}
}

func date(cmp func(a, b time.Time) bool) func(string, string) bool {
	return func(v, p string) bool {
		a, ok1 := ParseDate(v)
		b, ok2 := ParseDate(p)
		return ok1 && ok2 && cmp(a, b)
	}
}

// ParseDate reads a date as condition values write them: ISO 8601 (W3C
// profile: a date, or a date and time with seconds and fractions
// optional) or seconds since the epoch.
func ParseDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
	}
	return time.Time{}, false
}

// arnLike matches an ARN against a pattern segment by segment (the six
// colon-separated parts), each segment with * and ? wildcards, as
// ArnLike and ArnEquals do.
func arnLike(v, p string) bool {
	vs, ps := strings.SplitN(v, ":", 6), strings.SplitN(p, ":", 6)
	if len(vs) != 6 || len(ps) != 6 {
		return false
	}
	for i := range ps {
		if !Glob(ps[i], vs[i]) {
			return false
		}
	}
	return true
}

// substitute replaces policy variables (${aws:userid}) in s with
// single-valued context values; ok is false when one is missing, and the
// value then matches nothing.
func substitute(s string, ctx Context) (string, bool) {
	if !strings.Contains(s, "${") {
		return s, true
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		b.WriteString(s[:i])
		key := s[i+2 : i+j]
		v, present := ctx.Values(key)
		if !present || len(v) != 1 {
			return "", false
		}
		b.WriteString(v[0])
		s = s[i+j+1:]
	}
}

// Glob matches s against pattern, where * matches any run of characters
// and ? any one character (case-sensitive).
func Glob(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
