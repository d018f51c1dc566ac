package template

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Resource types the local cloud understands.
const (
	TypeFunction        = "AWS::Serverless::Function"
	TypeHttpApi         = "AWS::Serverless::HttpApi"
	TypeStateMachine    = "AWS::Serverless::StateMachine"
	TypeStepFunctionsSM = "AWS::StepFunctions::StateMachine"
	TypeTable           = "AWS::DynamoDB::Table"
)

// SAM's defaults for properties neither the function nor Globals set.
const (
	defaultFunctionTimeout = 3 * time.Second
	defaultMemoryMB        = 128
)

// Template is the part of a SAM template the local cloud needs. Values that
// may hold intrinsic functions are kept unresolved (in long form) and are
// resolved later with a Resolver.
type Template struct {
	Parameters    map[string]Parameter
	Functions     []Function     // in template order
	Tables        []Table        // in template order
	StateMachines []StateMachine // in template order
	HttpApis      []string       // logical IDs, in template order
	// Outputs maps each output's name to its unresolved Value.
	Outputs map[string]any
}

// Parameter is one template parameter.
type Parameter struct {
	Type          string
	Default       string
	HasDefault    bool
	AllowedValues []string
	Description   string
}

// Function is an AWS::Serverless::Function with Globals.Function merged in.
type Function struct {
	LogicalID     string
	CodeURI       string
	Handler       string
	Runtime       string
	Architectures []string
	Timeout       time.Duration
	MemoryMB      int
	// Environment holds Environment.Variables, unresolved, Globals merged
	// key by key (the function's own value wins).
	Environment map[string]any
	Routes      []Route
	// BuildMethod is Metadata.BuildMethod, e.g. "makefile".
	BuildMethod string
}

// Route is one HttpApi event of a function.
type Route struct {
	Method  string // upper case, or "ANY"
	Path    string // as in the template, e.g. /d/{token}
	IAMAuth bool   // true when callers must sign with SigV4 (AWS_IAM)
}

// Table is an AWS::DynamoDB::Table with its raw CloudFormation properties.
type Table struct {
	LogicalID  string
	Properties map[string]any
}

// StateMachine is an AWS::Serverless::StateMachine.
type StateMachine struct {
	LogicalID     string
	Type          string // STANDARD unless the template says otherwise
	DefinitionURI string // relative to the template's directory
	// Substitutions are the unresolved DefinitionSubstitutions.
	Substitutions map[string]any
}

// Load reads and parses the SAM template at path.
func Load(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	return t, nil
}

// Parse parses a SAM template held in memory.
func Parse(src []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("template is not a YAML mapping")
	}
	root := doc.Content[0]
	top, err := decodeMapping(root)
	if err != nil {
		return nil, err
	}

	t := &Template{
		Parameters: map[string]Parameter{},
		Outputs:    map[string]any{},
	}
	if err := t.readParameters(top["Parameters"]); err != nil {
		return nil, err
	}
	if err := t.readOutputs(top["Outputs"]); err != nil {
		return nil, err
	}

	resources, ok := top["Resources"].(map[string]any)
	if !ok {
		return nil, errors.New("template has no Resources mapping")
	}
	globals, err := optMap(top["Globals"], "Globals")
	if err != nil {
		return nil, err
	}
	fnGlobals, err := optMap(globals["Function"], "Globals.Function")
	if err != nil {
		return nil, err
	}
	apiGlobals, err := optMap(globals["HttpApi"], "Globals.HttpApi")
	if err != nil {
		return nil, err
	}

	for _, id := range orderedKeys(root, "Resources") {
		res, ok := resources[id].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("resource %s: not a mapping", id)
		}
		typ, _ := res["Type"].(string)
		props, err := optMap(res["Properties"], id+".Properties")
		if err != nil {
			return nil, err
		}
		switch typ {
		case TypeFunction:
			meta, err := optMap(res["Metadata"], id+".Metadata")
			if err != nil {
				return nil, err
			}
			fn, err := readFunction(id, props, meta, fnGlobals, resources, apiGlobals)
			if err != nil {
				return nil, fmt.Errorf("function %s: %w", id, err)
			}
			t.Functions = append(t.Functions, fn)
		case TypeHttpApi:
			t.HttpApis = append(t.HttpApis, id)
		case TypeTable:
			t.Tables = append(t.Tables, Table{LogicalID: id, Properties: props})
		case TypeStateMachine:
			sm, err := readStateMachine(id, props)
			if err != nil {
				return nil, fmt.Errorf("state machine %s: %w", id, err)
			}
			t.StateMachines = append(t.StateMachines, sm)
		}
	}
	return t, nil
}

// ParamValues returns every parameter's value: the override if given, else
// the default. It fails for unknown overrides, for parameters without a
// value and for values outside AllowedValues.
func (t *Template) ParamValues(overrides map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(t.Parameters))
	for name := range overrides {
		if _, ok := t.Parameters[name]; !ok {
			return nil, fmt.Errorf("parameter override %s: no such parameter", name)
		}
	}
	for name, p := range t.Parameters {
		v, ok := overrides[name]
		if !ok {
			if !p.HasDefault {
				return nil, fmt.Errorf("parameter %s has no default and no value was given", name)
			}
			v = p.Default
		}
		if len(p.AllowedValues) > 0 && !slices.Contains(p.AllowedValues, v) {
			return nil, fmt.Errorf("parameter %s: %q is not one of %v", name, v, p.AllowedValues)
		}
		out[name] = v
	}
	return out, nil
}

// Function returns the function with the given logical ID.
func (t *Template) Function(logicalID string) (Function, bool) {
	for _, f := range t.Functions {
		if f.LogicalID == logicalID {
			return f, true
		}
	}
	return Function{}, false
}

func (t *Template) readParameters(v any) error {
	params, err := optMap(v, "Parameters")
	if err != nil {
		return err
	}
	for name, raw := range params {
		m, ok := raw.(map[string]any)
		if !ok {
			return fmt.Errorf("parameter %s: not a mapping", name)
		}
		p := Parameter{}
		p.Type, _ = m["Type"].(string)
		p.Description, _ = m["Description"].(string)
		if d, ok := m["Default"]; ok {
			s, err := scalarString(d)
			if err != nil {
				return fmt.Errorf("parameter %s Default: %w", name, err)
			}
			p.Default, p.HasDefault = s, true
		}
		if av, ok := m["AllowedValues"].([]any); ok {
			for _, a := range av {
				s, err := scalarString(a)
				if err != nil {
					return fmt.Errorf("parameter %s AllowedValues: %w", name, err)
				}
				p.AllowedValues = append(p.AllowedValues, s)
			}
		}
		t.Parameters[name] = p
	}
	return nil
}

func (t *Template) readOutputs(v any) error {
	outs, err := optMap(v, "Outputs")
	if err != nil {
		return err
	}
	for name, raw := range outs {
		m, ok := raw.(map[string]any)
		if !ok {
			return fmt.Errorf("output %s: not a mapping", name)
		}
		val, ok := m["Value"]
		if !ok {
			return fmt.Errorf("output %s: no Value", name)
		}
		t.Outputs[name] = val
	}
	return nil
}

func readFunction(id string, props, meta, globals, resources, apiGlobals map[string]any) (Function, error) {
	merged := mergeGlobals(globals, props)
	fn := Function{
		LogicalID:   id,
		Timeout:     defaultFunctionTimeout,
		MemoryMB:    defaultMemoryMB,
		Environment: map[string]any{},
	}
	var err error
	if fn.CodeURI, err = optString(merged, "CodeUri"); err != nil {
		return fn, err
	}
	if fn.Handler, err = optString(merged, "Handler"); err != nil {
		return fn, err
	}
	if fn.Runtime, err = optString(merged, "Runtime"); err != nil {
		return fn, err
	}
	if fn.BuildMethod, err = optString(meta, "BuildMethod"); err != nil {
		return fn, err
	}
	fn.Architectures = []string{"x86_64"}
	if a, ok := merged["Architectures"]; ok {
		list, ok := a.([]any)
		if !ok {
			return fn, errors.New("Architectures: not a list")
		}
		fn.Architectures = nil
		for _, x := range list {
			s, ok := x.(string)
			if !ok {
				return fn, fmt.Errorf("Architectures: %v is not a literal string", x)
			}
			fn.Architectures = append(fn.Architectures, s)
		}
	}
	if v, ok := merged["Timeout"]; ok {
		n, err := literalInt(v)
		if err != nil {
			return fn, fmt.Errorf("Timeout: %w", err)
		}
		fn.Timeout = time.Duration(n) * time.Second
	}
	if v, ok := merged["MemorySize"]; ok {
		n, err := literalInt(v)
		if err != nil {
			return fn, fmt.Errorf("MemorySize: %w", err)
		}
		fn.MemoryMB = n
	}
	env, err := optMap(merged["Environment"], "Environment")
	if err != nil {
		return fn, err
	}
	vars, err := optMap(env["Variables"], "Environment.Variables")
	if err != nil {
		return fn, err
	}
	maps.Copy(fn.Environment, vars)

	events, err := optMap(props["Events"], "Events")
	if err != nil {
		return fn, err
	}
	for _, name := range sortedKeys(events) {
		ev, ok := events[name].(map[string]any)
		if !ok {
			return fn, fmt.Errorf("event %s: not a mapping", name)
		}
		if ev["Type"] != "HttpApi" {
			continue
		}
		r, err := readRoute(ev, resources, apiGlobals)
		if err != nil {
			return fn, fmt.Errorf("event %s: %w", name, err)
		}
		fn.Routes = append(fn.Routes, r)
	}
	return fn, nil
}

// mergeGlobals applies SAM's Globals rule for the properties the local
// cloud reads: the resource's own value wins, except that
// Environment.Variables are merged key by key.
func mergeGlobals(globals, props map[string]any) map[string]any {
	out := maps.Clone(globals)
	if out == nil {
		out = map[string]any{}
	}
	maps.Copy(out, props)
	gEnv, _ := globals["Environment"].(map[string]any)
	pEnv, _ := props["Environment"].(map[string]any)
	if gEnv != nil && pEnv != nil {
		env := maps.Clone(gEnv)
		maps.Copy(env, pEnv)
		gVars, _ := gEnv["Variables"].(map[string]any)
		pVars, _ := pEnv["Variables"].(map[string]any)
		vars := maps.Clone(gVars)
		if vars == nil {
			vars = map[string]any{}
		}
		maps.Copy(vars, pVars)
		env["Variables"] = vars
		out["Environment"] = env
	}
	return out
}

func readRoute(ev, resources, apiGlobals map[string]any) (Route, error) {
	props, err := optMap(ev["Properties"], "Properties")
	if err != nil {
		return Route{}, err
	}
	r := Route{Method: "ANY", Path: "$default"}
	if props["Method"] != nil {
		s, ok := props["Method"].(string)
		if !ok {
			return r, errors.New("Method: not a literal string")
		}
		r.Method = strings.ToUpper(s)
	}
	if props["Path"] != nil {
		s, ok := props["Path"].(string)
		if !ok {
			return r, errors.New("Path: not a literal string")
		}
		r.Path = s
	}

	// The event's own authorizer wins; else the API's default; else the
	// Globals.HttpApi default; else none (SAM's default for HTTP APIs).
	auth, err := optMap(props["Auth"], "Auth")
	if err != nil {
		return r, err
	}
	authorizer, hasAuth := auth["Authorizer"]
	if !hasAuth {
		apiAuth := map[string]any{}
		if ga, ok := apiGlobals["Auth"].(map[string]any); ok {
			apiAuth = maps.Clone(ga)
		}
		if ref, ok := props["ApiId"]; ok {
			apiID, err := refTarget(ref)
			if err != nil {
				return r, fmt.Errorf("ApiId: %w", err)
			}
			api, ok := resources[apiID].(map[string]any)
			if !ok || api["Type"] != TypeHttpApi {
				return r, fmt.Errorf("ApiId: %s is not an %s resource", apiID, TypeHttpApi)
			}
			apiProps, _ := api["Properties"].(map[string]any)
			if a, ok := apiProps["Auth"].(map[string]any); ok {
				maps.Copy(apiAuth, a)
			}
		}
		authorizer, hasAuth = apiAuth["DefaultAuthorizer"]
	}
	if !hasAuth {
		return r, nil
	}
	switch authorizer {
	case "AWS_IAM":
		r.IAMAuth = true
	case "NONE":
		r.IAMAuth = false
	default:
		return r, fmt.Errorf("authorizer %v: only AWS_IAM and NONE are supported locally", authorizer)
	}
	return r, nil
}

func readStateMachine(id string, props map[string]any) (StateMachine, error) {
	sm := StateMachine{LogicalID: id, Type: "STANDARD", Substitutions: map[string]any{}}
	typ, err := optString(props, "Type")
	if err != nil {
		return sm, err
	}
	if typ != "" {
		sm.Type = typ
	}
	if _, ok := props["DefinitionUri"]; !ok {
		return sm, errors.New("no DefinitionUri: inline Definition is unsupported locally")
	}
	if sm.DefinitionURI, err = optString(props, "DefinitionUri"); err != nil {
		return sm, fmt.Errorf("DefinitionUri must be a local file path: %w", err)
	}
	subs, err := optMap(props["DefinitionSubstitutions"], "DefinitionSubstitutions")
	if err != nil {
		return sm, err
	}
	maps.Copy(sm.Substitutions, subs)
	return sm, nil
}

// orderedKeys returns the keys of the mapping found under key in the root
// mapping node, in document order.
func orderedKeys(root *yaml.Node, key string) []string {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != key {
			continue
		}
		m := root.Content[i+1]
		for m.Kind == yaml.AliasNode && m.Alias != nil {
			m = m.Alias
		}
		var out []string
		for j := 0; j+1 < len(m.Content); j += 2 {
			out = append(out, m.Content[j].Value)
		}
		return out
	}
	return nil
}

func refTarget(v any) (string, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", fmt.Errorf("want {Ref: X}, got %v", v)
	}
	s, ok := m["Ref"].(string)
	if !ok {
		return "", fmt.Errorf("want {Ref: X}, got %v", v)
	}
	return s, nil
}

func optMap(v any, what string) (map[string]any, error) {
	if v == nil {
		return map[string]any{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: not a mapping", what)
	}
	return m, nil
}

func optString(m map[string]any, key string) (string, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return "", nil
	}
	s, err := scalarString(v)
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	return s, nil
}

// scalarString formats a literal scalar; intrinsic functions are rejected.
func scalarString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int:
		return strconv.Itoa(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("%v is not a literal scalar", v)
}

func literalInt(v any) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case string:
		n, err := strconv.Atoi(x)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", x)
		}
		return n, nil
	}
	return 0, fmt.Errorf("%v is not a literal integer", v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
