package template

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// longForm maps a CloudFormation short-form tag to the key of its long form;
// ok is false for tags that are not intrinsic functions.
func longForm(tag string) (key string, ok bool) {
	switch tag {
	case "!Ref":
		return "Ref", true
	case "!Condition":
		return "Condition", true
	case "!GetAtt", "!Sub", "!Join", "!Select", "!Split", "!If", "!Equals",
		"!Not", "!And", "!Or", "!FindInMap", "!Base64", "!Cidr", "!GetAZs",
		"!ImportValue", "!Transform":
		return "Fn::" + tag[1:], true
	}
	return "", false
}

// decodeNode converts a yaml.v3 node into plain Go values (map[string]any,
// []any, string, int, float64, bool, nil), rewriting short-form intrinsic
// tags into their long forms so that both spellings look the same to the
// rest of the package.
func decodeNode(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return decodeNode(n.Content[0])
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, fmt.Errorf("line %d: dangling alias", n.Line)
		}
		return decodeNode(n.Alias)
	}

	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return decodeShortForm(n)
	}

	switch n.Kind {
	case yaml.MappingNode:
		return decodeMapping(n)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := decodeNode(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return v, nil
	default:
		return nil, fmt.Errorf("line %d: unexpected YAML node kind %d", n.Line, n.Kind)
	}
}

func decodeMapping(n *yaml.Node) (map[string]any, error) {
	out := make(map[string]any, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, vn := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: mapping key must be a scalar", k.Line)
		}
		v, err := decodeNode(vn)
		if err != nil {
			return nil, err
		}
		out[k.Value] = v
	}
	return out, nil
}

// decodeShortForm rewrites one tagged node, e.g. `!GetAtt A.Arn`, into its
// long form, e.g. {"Fn::GetAtt": ["A", "Arn"]}.
func decodeShortForm(n *yaml.Node) (any, error) {
	key, ok := longForm(n.Tag)
	if !ok {
		return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	var arg any
	switch n.Kind {
	case yaml.ScalarNode:
		// The argument of a tagged scalar is always its text: `!Ref 123`
		// refers to a parameter named "123", not to a number.
		arg = n.Value
		if key == "Fn::GetAtt" {
			res, attr, found := strings.Cut(n.Value, ".")
			if !found || res == "" || attr == "" {
				return nil, fmt.Errorf("line %d: !GetAtt %q: want Resource.Attribute", n.Line, n.Value)
			}
			arg = []any{res, attr}
		}
	case yaml.SequenceNode, yaml.MappingNode:
		// Strip the tag so decodeNode treats the node as plain data.
		plain := *n
		plain.Tag = ""
		v, err := decodeNode(&plain)
		if err != nil {
			return nil, err
		}
		arg = v
	default:
		return nil, fmt.Errorf("line %d: %s on unexpected YAML node kind %d", n.Line, n.Tag, n.Kind)
	}
	return map[string]any{key: arg}, nil
}
