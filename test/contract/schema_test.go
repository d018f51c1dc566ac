package contract

// A validator for the subset of JSON Schema (2020-12, as OpenAPI 3.1 uses
// it) that docs/openapi.yaml is written in. A keyword outside the subset is
// an error, so the document cannot silently say more than is checked.

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// annotations carry no assertion.
var annotations = map[string]bool{
	"description": true, "title": true, "summary": true, "examples": true, "example": true,
	"default": true, "deprecated": true, "readOnly": true, "writeOnly": true, "$comment": true,
}

// validator checks instances against schemas of one document, whose
// "#/..." references it resolves.
type validator struct {
	root map[string]any
}

// validate returns every way instance breaks schema, each prefixed with
// the instance path.
func (v *validator) validate(schema any, instance any) []string {
	var errs []string
	v.check(schema, instance, "$", &errs, 0)
	return errs
}

func (v *validator) resolve(ref string) (any, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("only local references are supported: %q", ref)
	}
	var cur any = v.root
	for _, part := range strings.Split(ref[2:], "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("reference %q: %q is not in an object", ref, part)
		}
		if cur, ok = m[part]; !ok {
			return nil, fmt.Errorf("reference %q does not resolve (at %q)", ref, part)
		}
	}
	return cur, nil
}

func (v *validator) check(schema any, x any, path string, errs *[]string, depth int) {
	fail := func(format string, args ...any) {
		*errs = append(*errs, path+": "+fmt.Sprintf(format, args...))
	}
	if depth > 64 {
		fail("schema nests too deep (a reference cycle?)")
		return
	}
	switch s := schema.(type) {
	case bool:
		if !s {
			fail("no value is allowed here")
		}
		return
	case map[string]any:
		keys := make([]string, 0, len(s))
		for k := range s {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			kw := s[k]
			switch {
			case annotations[k] || strings.HasPrefix(k, "x-"):
			case k == "$ref":
				target, err := v.resolve(fmt.Sprint(kw))
				if err != nil {
					fail("%v", err)
					continue
				}
				v.check(target, x, path, errs, depth+1)
			case k == "type":
				if !hasType(kw, x) {
					fail("is %s, want type %v", typeName(x), kw)
				}
			case k == "enum":
				list, _ := kw.([]any)
				found := false
				for _, e := range list {
					if equal(e, x) {
						found = true
					}
				}
				if !found {
					fail("%s is not one of %v", short(x), kw)
				}
			case k == "const":
				if !equal(kw, x) {
					fail("%s is not %v", short(x), kw)
				}
			case k == "properties":
				obj, ok := x.(map[string]any)
				if !ok {
					continue
				}
				props, _ := kw.(map[string]any)
				for name, sub := range props {
					if val, ok := obj[name]; ok {
						v.check(sub, val, path+"."+name, errs, depth+1)
					}
				}
			case k == "required":
				obj, ok := x.(map[string]any)
				if !ok {
					continue
				}
				for _, name := range kw.([]any) {
					if _, ok := obj[fmt.Sprint(name)]; !ok {
						fail("lacks required property %q", name)
					}
				}
			case k == "additionalProperties":
				obj, ok := x.(map[string]any)
				if !ok {
					continue
				}
				props, _ := s["properties"].(map[string]any)
				for name, val := range obj {
					if _, declared := props[name]; !declared {
						if b, ok := kw.(bool); ok && !b {
							fail("has property %q, which the schema does not allow", name)
							continue
						}
						v.check(kw, val, path+"."+name, errs, depth+1)
					}
				}
			case k == "items":
				arr, ok := x.([]any)
				if !ok {
					continue
				}
				for i, e := range arr {
					v.check(kw, e, fmt.Sprintf("%s[%d]", path, i), errs, depth+1)
				}
			case k == "minItems" || k == "maxItems":
				arr, ok := x.([]any)
				if !ok {
					continue
				}
				n, _ := number(kw)
				if k == "minItems" && float64(len(arr)) < n || k == "maxItems" && float64(len(arr)) > n {
					fail("has %d items, %s is %v", len(arr), k, kw)
				}
			case k == "minLength" || k == "maxLength":
				str, ok := x.(string)
				if !ok {
					continue
				}
				n, _ := number(kw)
				l := float64(len([]rune(str)))
				if k == "minLength" && l < n || k == "maxLength" && l > n {
					fail("is %v characters long, %s is %v", l, k, kw)
				}
			case k == "pattern":
				str, ok := x.(string)
				if !ok {
					continue
				}
				re, err := regexp.Compile(fmt.Sprint(kw))
				if err != nil {
					fail("pattern %q does not compile: %v", kw, err)
				} else if !re.MatchString(str) {
					fail("%s does not match %s", short(str), kw)
				}
			case k == "minimum" || k == "maximum":
				n, ok := number(x)
				if !ok {
					continue
				}
				limit, _ := number(kw)
				if k == "minimum" && n < limit || k == "maximum" && n > limit {
					fail("%v is outside %s %v", n, k, kw)
				}
			case k == "format":
				str, ok := x.(string)
				if !ok {
					continue
				}
				switch kw {
				case "date-time":
					if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
						fail("%s is not an RFC 3339 date-time", short(str))
					}
				default:
					fail("format %q is not supported by this validator", kw)
				}
			case k == "allOf" || k == "anyOf" || k == "oneOf":
				subs, _ := kw.([]any)
				passed := 0
				var why []string
				for i, sub := range subs {
					var sErrs []string
					v.check(sub, x, path, &sErrs, depth+1)
					if len(sErrs) == 0 {
						passed++
					} else {
						why = append(why, fmt.Sprintf("[%d] %s", i, strings.Join(sErrs, "; ")))
					}
				}
				switch {
				case k == "allOf" && passed != len(subs):
					fail("fails allOf: %s", strings.Join(why, " | "))
				case k == "anyOf" && passed == 0:
					fail("matches none of anyOf: %s", strings.Join(why, " | "))
				case k == "oneOf" && passed != 1:
					fail("matches %d of oneOf, want exactly 1: %s", passed, strings.Join(why, " | "))
				}
			default:
				fail("keyword %q is not supported by this validator", k)
			}
		}
	default:
		fail("schema is a %T, not an object or boolean", schema)
	}
}

func hasType(kw any, x any) bool {
	switch t := kw.(type) {
	case string:
		return isType(t, x)
	case []any:
		for _, e := range t {
			if isType(fmt.Sprint(e), x) {
				return true
			}
		}
	}
	return false
}

func isType(t string, x any) bool {
	switch t {
	case "null":
		return x == nil
	case "boolean":
		_, ok := x.(bool)
		return ok
	case "string":
		_, ok := x.(string)
		return ok
	case "object":
		_, ok := x.(map[string]any)
		return ok
	case "array":
		_, ok := x.([]any)
		return ok
	case "number":
		_, ok := number(x)
		return ok
	case "integer":
		n, ok := number(x)
		return ok && n == math.Trunc(n)
	}
	return false
}

func typeName(x any) string {
	for _, t := range []string{"null", "boolean", "string", "object", "array", "integer", "number"} {
		if isType(t, x) {
			return t
		}
	}
	return fmt.Sprintf("%T", x)
}

// number reads JSON (float64) and YAML (int) numbers alike.
func number(x any) (float64, bool) {
	switch n := x.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	}
	return 0, false
}

func equal(a, b any) bool {
	if na, ok := number(a); ok {
		nb, ok := number(b)
		return ok && na == nb
	}
	return fmt.Sprintf("%#v", a) == fmt.Sprintf("%#v", b)
}

func short(x any) string {
	s := fmt.Sprintf("%q", fmt.Sprint(x))
	if len(s) > 80 {
		s = s[:77] + "...\""
	}
	return s
}

// TestValidator pins the validator itself: it must reject what the
// keywords forbid, or the contract checks below prove nothing.
func TestValidator(t *testing.T) {
	root := map[string]any{"components": map[string]any{"schemas": map[string]any{
		"S": map[string]any{"type": "string", "enum": []any{"a", "b"}},
	}}}
	v := &validator{root: root}
	obj := map[string]any{
		"type": "object", "required": []any{"id", "n"}, "additionalProperties": false,
		"properties": map[string]any{
			"id":   map[string]any{"type": "string", "pattern": "^[a-z]{3}$", "minLength": 3, "maxLength": 3},
			"n":    map[string]any{"type": "integer", "minimum": 1, "maximum": 10},
			"s":    map[string]any{"$ref": "#/components/schemas/S"},
			"t":    map[string]any{"type": "string", "format": "date-time"},
			"l":    map[string]any{"type": []any{"array", "null"}, "items": map[string]any{"type": "boolean"}, "minItems": 1},
			"c":    map[string]any{"const": true},
			"any":  map[string]any{"anyOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}},
			"one":  map[string]any{"oneOf": []any{map[string]any{"type": "number"}, map[string]any{"type": "integer"}}},
			"all":  map[string]any{"allOf": []any{map[string]any{"type": "string"}, map[string]any{"minLength": 2}}},
			"free": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}},
		},
	}
	good := map[string]any{"id": "abc", "n": 3.0, "s": "a", "t": "2026-11-28T10:00:00.123Z", "l": nil, "c": true, "any": 1.0, "one": 1.5, "all": "xy", "free": map[string]any{"k": "v"}}
	if errs := v.validate(obj, good); len(errs) > 0 {
		t.Fatalf("good instance refused: %v", errs)
	}
	for name, mutate := range map[string]func(m map[string]any){
		"missing required":   func(m map[string]any) { delete(m, "n") },
		"extra property":     func(m map[string]any) { m["zzz"] = 1.0 },
		"pattern":            func(m map[string]any) { m["id"] = "ABC" },
		"integer":            func(m map[string]any) { m["n"] = 1.5 },
		"maximum":            func(m map[string]any) { m["n"] = 11.0 },
		"enum via ref":       func(m map[string]any) { m["s"] = "c" },
		"date-time":          func(m map[string]any) { m["t"] = "yesterday" },
		"items":              func(m map[string]any) { m["l"] = []any{"x"} },
		"minItems":           func(m map[string]any) { m["l"] = []any{} },
		"const":              func(m map[string]any) { m["c"] = false },
		"anyOf":              func(m map[string]any) { m["any"] = true },
		"oneOf two match":    func(m map[string]any) { m["one"] = 2.0 },
		"allOf":              func(m map[string]any) { m["all"] = "x" },
		"additional schema":  func(m map[string]any) { m["free"] = map[string]any{"k": 1.0} },
		"type":               func(m map[string]any) { m["id"] = 1.0 },
		"type of the object": func(m map[string]any) { m["free"] = "x" },
	} {
		bad := map[string]any{}
		for k, val := range good {
			bad[k] = val
		}
		mutate(bad)
		if errs := v.validate(obj, bad); len(errs) == 0 {
			t.Errorf("%s: accepted %v", name, bad)
		}
	}
	if errs := v.validate(map[string]any{"frobnicate": 1}, "x"); len(errs) == 0 {
		t.Error("an unknown keyword was accepted")
	}
	if errs := v.validate(map[string]any{"$ref": "#/nope"}, "x"); len(errs) == 0 {
		t.Error("a dangling reference was accepted")
	}
}
