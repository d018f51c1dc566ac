package ddbcheck

import (
	"fmt"
	"strconv"
	"strings"
)

// exprKind is which request parameter an expression came in: it decides
// the keywords and functions it may use and the name of the parameter in
// DynamoDB's messages ("Invalid UpdateExpression: ...").
type exprKind string

const (
	updateExpr       exprKind = "UpdateExpression"
	conditionExpr    exprKind = "ConditionExpression"
	keyConditionExpr exprKind = "KeyConditionExpression"
	filterExpr       exprKind = "FilterExpression"
	projectionExpr   exprKind = "ProjectionExpression"
)

// functions each kind of expression may call
// (Expressions.OperatorsAndFunctions.html, Expressions.UpdateExpressions.html).
var (
	conditionFunctions = words("attribute_exists attribute_not_exists attribute_type begins_with contains size")
	updateFunctions    = words("if_not_exists list_append")
	keyFunctions       = words("begins_with")
	conditionKeywords  = words("AND OR NOT BETWEEN IN")
	updateSections     = words("SET REMOVE ADD DELETE")
)

type tokenKind int

const (
	tokIdent  tokenKind = iota // a bare attribute name, keyword or function
	tokName                    // #name
	tokValue                   // :value
	tokNumber                  // a list index
	tokPunct                   // operators and brackets
)

type token struct {
	kind tokenKind
	text string
	pos  int
}

// tokenize splits an expression, or says which character DynamoDB's
// parser would stop at.
func tokenize(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#' || c == ':':
			j := i + 1
			for j < len(s) && isWordChar(s[j]) {
				j++
			}
			if j == i+1 {
				return nil, syntaxError(s, i, j)
			}
			kind := tokName
			if c == ':' {
				kind = tokValue
			}
			out = append(out, token{kind, s[i:j], i})
			i = j
		case isLetter(c) || c == '_':
			j := i + 1
			for j < len(s) && isWordChar(s[j]) {
				j++
			}
			out = append(out, token{tokIdent, s[i:j], i})
			i = j
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			out = append(out, token{tokNumber, s[i:j], i})
			i = j
		case c == '<' && i+1 < len(s) && (s[i+1] == '>' || s[i+1] == '='), c == '>' && i+1 < len(s) && s[i+1] == '=':
			out = append(out, token{tokPunct, s[i : i+2], i})
			i += 2
		case strings.IndexByte("=<>()[],.+-", c) >= 0:
			out = append(out, token{tokPunct, s[i : i+1], i})
			i++
		default:
			return nil, syntaxError(s, i, i+1)
		}
	}
	return out, nil
}

func isLetter(c byte) bool   { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isWordChar(c byte) bool { return isLetter(c) || c >= '0' && c <= '9' || c == '_' }

// syntaxError words a stray character as DynamoDB's parser does.
func syntaxError(s string, from, to int) error {
	lo := strings.LastIndexByte(s[:from], ' ') + 1
	hi := len(s)
	if k := strings.IndexByte(s[to:], ' '); k >= 0 {
		hi = to + k
	}
	return fmt.Errorf("Syntax error; token: %q, near: %q", s[from:to], s[lo:hi])
}

// usage collects, over every expression of one request (or transaction
// item), the placeholders used, against the ones defined.
type usage struct {
	names     map[string]string // ExpressionAttributeNames
	values    map[string]bool   // keys of ExpressionAttributeValues
	usedNames map[string]bool
	usedVals  map[string]bool
}

// path is a document path with its placeholders resolved: strings for
// attribute names, ints for list indexes.
type path []any

func (p path) String() string {
	parts := make([]string, len(p))
	for i, c := range p {
		if n, ok := c.(int); ok {
			parts[i] = "[" + strconv.Itoa(n) + "]"
		} else {
			parts[i] = c.(string)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// analysis is what one expression was found to do.
type analysis struct {
	// targets are the document paths an update expression writes or a
	// projection expression reads, in order.
	targets []path
}

// analyze checks one expression of kind k and records the placeholders it
// uses in u. The errors come in DynamoDB's order of precedence for one
// expression: a reserved word, an unknown function, a repeated update
// section, an undefined name, an undefined value, overlapping paths.
func analyze(k exprKind, s string, u *usage) (*analysis, error) {
	if strings.TrimSpace(s) == "" {
		return nil, exprError(k, fmt.Errorf("The expression can not be empty;"))
	}
	toks, err := tokenize(s)
	if err != nil {
		return nil, exprError(k, err)
	}
	var (
		reservedErr, functionErr, sectionErr, nameErr, valueErr error
		seenSections                                            = map[string]bool{}
	)
	for i, t := range toks {
		switch t.kind {
		case tokName:
			u.usedNames[t.text] = true
			if _, ok := u.names[t.text]; !ok && nameErr == nil {
				nameErr = fmt.Errorf("An expression attribute name used in the document path is not defined; attribute name: %s", t.text)
			}
		case tokValue:
			u.usedVals[t.text] = true
			if !u.values[t.text] && valueErr == nil {
				valueErr = fmt.Errorf("An expression attribute value used in expression is not defined; attribute value: %s", t.text)
			}
		case tokIdent:
			call := i+1 < len(toks) && toks[i+1].text == "("
			afterDot := i > 0 && toks[i-1].text == "."
			switch {
			case !afterDot && k.condition() && conditionKeywords[strings.ToUpper(t.text)]:
			case call && !afterDot:
				if !k.callable(t.text) && functionErr == nil {
					functionErr = fmt.Errorf("Invalid function name; function: %s", t.text)
				}
			case !afterDot && k == updateExpr && updateSections[strings.ToUpper(t.text)]:
				up := strings.ToUpper(t.text)
				if seenSections[up] && sectionErr == nil {
					sectionErr = fmt.Errorf("The %q section can only be used once in an update expression;", up)
				}
				seenSections[up] = true
			case reserved(t.text):
				if reservedErr == nil {
					reservedErr = fmt.Errorf("Attribute name is a reserved keyword; reserved keyword: %s", t.text)
				}
			}
		}
	}
	for _, err := range []error{reservedErr, functionErr, sectionErr, nameErr, valueErr} {
		if err != nil {
			return nil, exprError(k, err)
		}
	}
	a := &analysis{}
	switch k {
	case updateExpr:
		a.targets = updateTargets(toks, u)
	case projectionExpr:
		for _, item := range splitTop(toks, ",") {
			if p, _ := readPath(item, u); p != nil {
				a.targets = append(a.targets, p)
			}
		}
	}
	if err := checkOverlap(a.targets); err != nil {
		return nil, exprError(k, err)
	}
	return a, nil
}

func exprError(k exprKind, err error) error { return fmt.Errorf("Invalid %s: %w", k, err) }

func (k exprKind) condition() bool {
	return k == conditionExpr || k == keyConditionExpr || k == filterExpr
}

func (k exprKind) callable(fn string) bool {
	switch k {
	case updateExpr:
		return updateFunctions[fn]
	case keyConditionExpr:
		return keyFunctions[fn]
	case conditionExpr, filterExpr:
		return conditionFunctions[fn]
	}
	return false
}

// updateTargets returns the path each action of an update expression
// writes: SET path = value, REMOVE path, ADD path value, DELETE path value.
func updateTargets(toks []token, u *usage) []path {
	var out []path
	var action []token
	depth := 0
	flush := func() {
		if p, _ := readPath(action, u); p != nil {
			out = append(out, p)
		}
		action = action[:0]
	}
	for i, t := range toks {
		switch {
		case t.kind == tokIdent && depth == 0 && updateSections[strings.ToUpper(t.text)] &&
			(i == 0 || toks[i-1].text != "."):
			flush()
			continue
		case t.text == "(" || t.text == "[":
			depth++
		case t.text == ")" || t.text == "]":
			depth--
		case t.text == "," && depth == 0:
			flush()
			continue
		}
		action = append(action, t)
	}
	flush()
	return out
}

// readPath reads the document path at the start of toks.
func readPath(toks []token, u *usage) (path, int) {
	if len(toks) == 0 || (toks[0].kind != tokIdent && toks[0].kind != tokName) {
		return nil, 0
	}
	var p path
	i := 0
	p = append(p, u.resolve(toks[0]))
	for i = 1; i < len(toks); {
		switch {
		case toks[i].text == "." && i+1 < len(toks) && (toks[i+1].kind == tokIdent || toks[i+1].kind == tokName):
			p = append(p, u.resolve(toks[i+1]))
			i += 2
		case toks[i].text == "[" && i+2 < len(toks) && toks[i+1].kind == tokNumber && toks[i+2].text == "]":
			n, err := strconv.Atoi(toks[i+1].text)
			if err != nil {
				return p, i
			}
			p = append(p, n)
			i += 3
		default:
			return p, i
		}
	}
	return p, i
}

func (u *usage) resolve(t token) string {
	if t.kind == tokName {
		if n, ok := u.names[t.text]; ok {
			return n
		}
	}
	return t.text
}

// splitTop splits toks at sep outside brackets.
func splitTop(toks []token, sep string) [][]token {
	var out [][]token
	var cur []token
	depth := 0
	for _, t := range toks {
		switch {
		case t.text == "(" || t.text == "[":
			depth++
		case t.text == ")" || t.text == "]":
			depth--
		case t.text == sep && depth == 0:
			out = append(out, cur)
			cur = nil
			continue
		}
		cur = append(cur, t)
	}
	return append(out, cur)
}

// checkOverlap refuses two paths of which one is the other or inside it
// (a = 1, a.b = 2), and two that disagree on whether a step is a map key
// or a list index (a.b, a[0]).
func checkOverlap(paths []path) error {
	var conflict error
	for i := 1; i < len(paths); i++ {
		for j := 0; j < i; j++ {
			p, q := paths[j], paths[i]
			n := min(len(p), len(q))
			same := true
			for k := 0; k < n && same; k++ {
				_, pi := p[k].(int)
				_, qi := q[k].(int)
				switch {
				case pi != qi:
					if conflict == nil {
						conflict = fmt.Errorf("Two document paths conflict with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", p, q)
					}
					same = false
				case p[k] != q[k]:
					same = false
				}
			}
			if same {
				return fmt.Errorf("Two document paths overlap with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", p, q)
			}
		}
	}
	return conflict
}
