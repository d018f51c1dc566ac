package ddbcheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// ValidationError is DynamoDB's answer to a request it refuses before
// touching any item: HTTP 400, com.amazon.coral.validate#ValidationException.
type ValidationError struct {
	Message string
}

func (e *ValidationError) Error() string { return "ValidationException: " + e.Message }

func refuse(format string, args ...any) *ValidationError {
	return &ValidationError{Message: fmt.Sprintf(format, args...)}
}

// Limits of one request (API_TransactWriteItems.html,
// API_TransactGetItems.html, API_BatchWriteItem.html,
// API_BatchGetItem.html).
const (
	MaxTransactItems = 100
	MaxBatchWrite    = 25
	MaxBatchGet      = 100
)

// Operations lists the operations Check validates; it lets every other
// operation through.
var Operations = []string{
	"PutItem", "UpdateItem", "DeleteItem", "GetItem", "Query", "Scan",
	"TransactWriteItems", "TransactGetItems", "BatchWriteItem", "BatchGetItem",
}

// Check validates the JSON body of one DynamoDB request for operation (the
// part of X-Amz-Target after "DynamoDB_20120810."). It returns a
// *ValidationError worded as DynamoDB words it, or nil when the request
// passes (or is not one Check knows: a body that is not JSON is left for
// the emulator to refuse).
func Check(operation string, body []byte) *ValidationError {
	if !slices.Contains(Operations, operation) {
		return nil
	}
	var r params
	if err := json.Unmarshal(body, &r); err != nil {
		return nil
	}
	switch operation {
	case "PutItem", "DeleteItem":
		return r.check([]exprKind{conditionExpr}, []string{"Expected", "ConditionalOperator"}, nil)
	case "UpdateItem":
		return r.check([]exprKind{updateExpr, conditionExpr}, []string{"AttributeUpdates", "Expected", "ConditionalOperator"}, r.Key)
	case "GetItem":
		return r.check([]exprKind{projectionExpr}, []string{"AttributesToGet"}, nil)
	case "Query":
		return r.check([]exprKind{projectionExpr, filterExpr, keyConditionExpr}, []string{"AttributesToGet", "QueryFilter", "ConditionalOperator", "KeyConditions"}, nil)
	case "Scan":
		return r.check([]exprKind{projectionExpr, filterExpr}, []string{"AttributesToGet", "ScanFilter", "ConditionalOperator"}, nil)
	case "TransactWriteItems":
		return checkTransactWrite(r.TransactItems)
	case "TransactGetItems":
		return checkTransactGet(r.TransactItems)
	case "BatchWriteItem":
		return checkBatchWrite(r.RequestItems)
	case "BatchGetItem":
		return checkBatchGet(r.RequestItems)
	}
	return nil
}

// params is the union of the request parameters Check reads. Legacy
// parameters are kept raw: only their presence matters.
type params struct {
	TableName                 string
	Key                       map[string]json.RawMessage
	Item                      map[string]json.RawMessage
	UpdateExpression          *string
	ConditionExpression       *string
	KeyConditionExpression    *string
	FilterExpression          *string
	ProjectionExpression      *string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues map[string]json.RawMessage

	Expected, AttributeUpdates, ConditionalOperator, QueryFilter, ScanFilter,
	KeyConditions, AttributesToGet json.RawMessage

	TransactItems []transactItem
	RequestItems  map[string]json.RawMessage
}

type transactItem struct {
	ConditionCheck, Put, Delete, Update, Get *params
}

func (p *params) expression(k exprKind) *string {
	switch k {
	case updateExpr:
		return p.UpdateExpression
	case conditionExpr:
		return p.ConditionExpression
	case keyConditionExpr:
		return p.KeyConditionExpression
	case filterExpr:
		return p.FilterExpression
	case projectionExpr:
		return p.ProjectionExpression
	}
	return nil
}

func (p *params) legacy(name string) bool {
	var v json.RawMessage
	switch name {
	case "Expected":
		v = p.Expected
	case "AttributeUpdates":
		v = p.AttributeUpdates
	case "ConditionalOperator":
		v = p.ConditionalOperator
	case "QueryFilter":
		v = p.QueryFilter
	case "ScanFilter":
		v = p.ScanFilter
	case "KeyConditions":
		v = p.KeyConditions
	case "AttributesToGet":
		v = p.AttributesToGet
	}
	return len(v) > 0 && !bytes.Equal(v, []byte("null"))
}

// check validates one operation, or one action of a transaction, whose
// expression parameters are kinds (in DynamoDB's order for its messages)
// and whose legacy parameters are legacy. key, for an update, is the
// item's key: an update may not write a key attribute.
func (p *params) check(kinds []exprKind, legacy []string, key map[string]json.RawMessage) *ValidationError {
	if err := p.checkParams(kinds, legacy); err != nil {
		return err
	}
	if err := itemFault(p.Key); err != nil {
		return err
	}
	if err := itemFault(p.Item); err != nil {
		return err
	}
	if err := p.checkPlaceholderMaps(); err != nil {
		return err
	}
	u := &usage{names: p.ExpressionAttributeNames, values: map[string]bool{}, usedNames: map[string]bool{}, usedVals: map[string]bool{}}
	for k := range p.ExpressionAttributeValues {
		u.values[k] = true
	}
	var updates *analysis
	// DynamoDB reads the expressions in this order whatever the
	// operation, and reports the first fault it meets.
	for _, k := range []exprKind{updateExpr, conditionExpr, keyConditionExpr, filterExpr, projectionExpr} {
		s := p.expression(k)
		if s == nil || !slices.Contains(kinds, k) {
			continue
		}
		a, err := analyze(k, *s, u)
		if err != nil {
			return &ValidationError{Message: err.Error()}
		}
		if k == updateExpr {
			updates = a
		}
	}
	if unused := unusedKeys(p.ExpressionAttributeNames, u.usedNames); unused != "" {
		return refuse("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", unused)
	}
	if unused := unusedKeys(p.ExpressionAttributeValues, u.usedVals); unused != "" {
		return refuse("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", unused)
	}
	if updates != nil {
		for _, t := range updates.targets {
			if name, ok := t[0].(string); ok && key[name] != nil {
				return refuse("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", name)
			}
		}
	}
	return nil
}

// checkParams refuses legacy parameters mixed with expressions, and
// placeholders sent with no expression to use them.
func (p *params) checkParams(kinds []exprKind, legacy []string) *ValidationError {
	var exprs, olds []string
	for _, k := range kinds {
		if p.expression(k) != nil {
			exprs = append(exprs, string(k))
		}
	}
	// A Query may combine the legacy KeyConditions with a
	// FilterExpression or ProjectionExpression, as long as it does not
	// also send a KeyConditionExpression.
	keyConditionsAllowed := p.KeyConditionExpression == nil
	for _, l := range legacy {
		if p.legacy(l) && !(l == "KeyConditions" && keyConditionsAllowed) {
			olds = append(olds, l)
		}
	}
	if len(exprs) > 0 && len(olds) > 0 {
		return refuse("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {%s} Expression parameters: {%s}",
			strings.Join(olds, ", "), strings.Join(exprs, ", "))
	}
	if p.ExpressionAttributeNames != nil && len(exprs) == 0 {
		return refuse("ExpressionAttributeNames can only be specified when using expressions")
	}
	var valueExprs []string
	for _, k := range kinds {
		if k != projectionExpr {
			valueExprs = append(valueExprs, string(k))
		}
	}
	if p.ExpressionAttributeValues != nil && len(valueExprs) > 0 {
		used := false
		for _, k := range kinds {
			used = used || (k != projectionExpr && p.expression(k) != nil)
		}
		if !used {
			verb := "is"
			if len(valueExprs) > 1 {
				verb = "are"
			}
			return refuse("ExpressionAttributeValues can only be specified when using expressions: %s %s null", strings.Join(valueExprs, " and "), verb)
		}
	}
	return nil
}

// checkPlaceholderMaps refuses empty maps, keys that are not placeholders
// and values that are not valid attribute values.
func (p *params) checkPlaceholderMaps() *ValidationError {
	if p.ExpressionAttributeNames != nil {
		if len(p.ExpressionAttributeNames) == 0 {
			return refuse("ExpressionAttributeNames must not be empty")
		}
		for _, k := range sortedKeys(p.ExpressionAttributeNames) {
			if !placeholder(k, '#') {
				return refuse("ExpressionAttributeNames contains invalid key: Syntax error; key: %q", k)
			}
		}
	}
	if p.ExpressionAttributeValues != nil {
		if len(p.ExpressionAttributeValues) == 0 {
			return refuse("ExpressionAttributeValues must not be empty")
		}
		keys := sortedKeys(p.ExpressionAttributeValues)
		for _, k := range keys {
			if !placeholder(k, ':') {
				return refuse("ExpressionAttributeValues contains invalid key: Syntax error; key: %q", k)
			}
		}
		for _, k := range keys {
			if msg := attributeValueFault(p.ExpressionAttributeValues[k]); msg != "" {
				return refuse("ExpressionAttributeValues contains invalid value: %s for key %s", msg, k)
			}
		}
	}
	return nil
}

// placeholder reports whether s is sigil followed by one or more
// alphanumeric characters or underscores.
func placeholder(s string, sigil byte) bool {
	if len(s) < 2 || s[0] != sigil {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isWordChar(s[i]) {
			return false
		}
	}
	return true
}

func unusedKeys[V any](m map[string]V, used map[string]bool) string {
	var out []string
	for _, k := range sortedKeys(m) {
		if !used[k] {
			out = append(out, k)
		}
	}
	return strings.Join(out, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// attributeValueFault returns what DynamoDB says of an attribute value it
// refuses, or "": exactly one data type, and sets neither empty nor with
// duplicates; lists and maps are checked member by member.
func attributeValueFault(raw json.RawMessage) string {
	var v map[string]json.RawMessage
	if err := json.Unmarshal(raw, &v); err != nil {
		return "" // not an attribute value at all: the emulator's to refuse
	}
	switch len(v) {
	case 0:
		return "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
	case 1:
	default:
		return "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
	}
	for typ, x := range v {
		switch typ {
		case "SS", "NS", "BS":
			var set []string
			if json.Unmarshal(x, &set) != nil {
				return ""
			}
			if len(set) == 0 {
				switch typ {
				case "SS":
					return "One or more parameter values were invalid: An string set  may not be empty"
				case "NS":
					return "One or more parameter values were invalid: An number set  may not be empty"
				default:
					return "One or more parameter values were invalid: Binary sets should not be empty"
				}
			}
			seen := map[string]bool{}
			for _, s := range set {
				if seen[s] {
					if typ == "BS" {
						return "One or more parameter values were invalid: Input collection [" + strings.Join(set, ", ") + "]of type BS contains duplicates."
					}
					return "One or more parameter values were invalid: Input collection [" + strings.Join(set, ", ") + "] contains duplicates."
				}
				seen[s] = true
			}
		case "L":
			var list []json.RawMessage
			if json.Unmarshal(x, &list) == nil {
				for _, m := range list {
					if msg := attributeValueFault(m); msg != "" {
						return msg
					}
				}
			}
		case "M":
			var m map[string]json.RawMessage
			if json.Unmarshal(x, &m) == nil {
				for _, k := range sortedKeys(m) {
					if msg := attributeValueFault(m[k]); msg != "" {
						return msg
					}
				}
			}
		}
	}
	return ""
}

// itemFault checks the attribute values of an item or key.
func itemFault(item map[string]json.RawMessage) *ValidationError {
	for _, k := range sortedKeys(item) {
		if msg := attributeValueFault(item[k]); msg != "" {
			return &ValidationError{Message: msg}
		}
	}
	return nil
}

// lengthError words a list that is too long or too short as the request
// validator does. DynamoDB prints the value with Java's toString, which
// cannot be reproduced: the value is shown by its length instead.
func lengthError(member string, n int, constraint string) *ValidationError {
	return refuse("1 validation error detected: Value '[%d items]' at '%s' failed to satisfy constraint: %s", n, member, constraint)
}
