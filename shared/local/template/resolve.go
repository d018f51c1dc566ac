package template

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrUnknownRef is wrapped by errors for references to names that are
// neither parameters, pseudo parameters nor known resources.
var ErrUnknownRef = errors.New("unknown reference")

// ErrUnsupported is wrapped by errors for intrinsic functions (or
// attributes) the local cloud does not evaluate.
var ErrUnsupported = errors.New("unsupported locally")

// Physical is the local identity of one resource.
type Physical struct {
	Name string
	Arn  string
	// Type is the resource's CloudFormation type. It decides what Ref
	// returns: the ARN for state machines, the name otherwise.
	Type string
}

// Resolver evaluates intrinsic functions against local values. Region and
// AccountID are required; Partition defaults to "aws", URLSuffix to
// "amazonaws.com" and StackName to "jit-local". Params must hold every
// parameter's value (see Template.ParamValues).
type Resolver struct {
	Region    string
	AccountID string
	Partition string
	URLSuffix string
	StackName string
	Params    map[string]string
	Physical  map[string]Physical
}

// LocalNames returns the local physical identity of every resource the
// template describes: the physical name is the logical ID, ARNs use the
// usual AWS formats in partition "aws".
func (t *Template) LocalNames(region, account string) map[string]Physical {
	out := make(map[string]Physical)
	for _, f := range t.Functions {
		out[f.LogicalID] = Physical{
			Name: f.LogicalID,
			Arn:  fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, account, f.LogicalID),
			Type: TypeFunction,
		}
	}
	for _, tb := range t.Tables {
		out[tb.LogicalID] = Physical{
			Name: tb.LogicalID,
			Arn:  fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", region, account, tb.LogicalID),
			Type: TypeTable,
		}
	}
	for _, sm := range t.StateMachines {
		out[sm.LogicalID] = Physical{
			Name: sm.LogicalID,
			Arn:  fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", region, account, sm.LogicalID),
			Type: TypeStateMachine,
		}
	}
	for _, id := range t.HttpApis {
		out[id] = Physical{Name: id, Type: TypeHttpApi}
	}
	return out
}

// Resolver returns a Resolver for the local cloud: parameter defaults with
// overrides applied, and LocalNames as physical identities.
func (t *Template) Resolver(region, account string, overrides map[string]string) (Resolver, error) {
	params, err := t.ParamValues(overrides)
	if err != nil {
		return Resolver{}, err
	}
	return Resolver{
		Region:    region,
		AccountID: account,
		Params:    params,
		Physical:  t.LocalNames(region, account),
	}, nil
}

// String resolves v to a string. v is a literal scalar or an intrinsic
// function in long form: Ref, Fn::GetAtt (Arn, Name), Fn::Sub (both forms),
// Fn::Join, Fn::Select. Other intrinsic functions fail with ErrUnsupported.
func (r Resolver) String(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int, float64, bool:
		return scalarString(x)
	case nil:
		return "", errors.New("null has no string value")
	case []any:
		return "", fmt.Errorf("list %v has no string value", x)
	case map[string]any:
		key, arg, ok := intrinsic(x)
		if !ok {
			return "", fmt.Errorf("mapping %v has no string value", x)
		}
		s, err := r.call(key, arg)
		if err != nil {
			return "", fmt.Errorf("%s: %w", key, err)
		}
		return s, nil
	}
	return "", fmt.Errorf("unexpected value %v (%T)", v, v)
}

// Value resolves every intrinsic function inside v (maps and lists are
// walked) and returns a copy holding only literals. {Ref: AWS::NoValue}
// removes the enclosing key or list element.
func (r Resolver) Value(v any) (any, error) {
	out, _, err := r.value(v)
	return out, err
}

func (r Resolver) value(v any) (out any, keep bool, err error) {
	switch x := v.(type) {
	case map[string]any:
		if key, arg, ok := intrinsic(x); ok {
			if key == "Ref" && arg == "AWS::NoValue" {
				return nil, false, nil
			}
			if key == "Fn::Split" || key == "Fn::GetAZs" {
				l, err := r.list(x)
				if err != nil {
					return nil, false, err
				}
				return stringsToAny(l), true, nil
			}
			s, err := r.String(x)
			return s, err == nil, err
		}
		m := make(map[string]any, len(x))
		for k, e := range x {
			rv, keep, err := r.value(e)
			if err != nil {
				return nil, false, fmt.Errorf("%s: %w", k, err)
			}
			if keep {
				m[k] = rv
			}
		}
		return m, true, nil
	case []any:
		l := make([]any, 0, len(x))
		for i, e := range x {
			rv, keep, err := r.value(e)
			if err != nil {
				return nil, false, fmt.Errorf("[%d]: %w", i, err)
			}
			if keep {
				l = append(l, rv)
			}
		}
		return l, true, nil
	}
	return v, true, nil
}

// intrinsic reports whether m is a single-key intrinsic function call.
func intrinsic(m map[string]any) (key string, arg any, ok bool) {
	if len(m) != 1 {
		return "", nil, false
	}
	for k, v := range m {
		if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
			return k, v, true
		}
	}
	return "", nil, false
}

func (r Resolver) call(key string, arg any) (string, error) {
	switch key {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return "", fmt.Errorf("argument %v is not a name", arg)
		}
		return r.ref(name)
	case "Fn::GetAtt":
		return r.getAtt(arg)
	case "Fn::Sub":
		return r.sub(arg)
	case "Fn::Join":
		return r.join(arg)
	case "Fn::Select":
		return r.selectFn(arg)
	case "Fn::Split", "Fn::GetAZs":
		return "", errors.New("yields a list, not a string")
	}
	return "", ErrUnsupported
}

func (r Resolver) ref(name string) (string, error) {
	if strings.HasPrefix(name, "AWS::") {
		return r.pseudo(name)
	}
	if v, ok := r.Params[name]; ok {
		return v, nil
	}
	p, ok := r.Physical[name]
	if !ok {
		return "", fmt.Errorf("%w %q", ErrUnknownRef, name)
	}
	switch p.Type {
	case TypeStateMachine, TypeStepFunctionsSM:
		if p.Arn == "" {
			return "", fmt.Errorf("state machine %s has no ARN", name)
		}
		return p.Arn, nil
	}
	if p.Name == "" {
		return "", fmt.Errorf("resource %s has no physical name", name)
	}
	return p.Name, nil
}

func (r Resolver) pseudo(name string) (string, error) {
	switch name {
	case "AWS::Region":
		if r.Region == "" {
			return "", errors.New("AWS::Region: resolver has no Region")
		}
		return r.Region, nil
	case "AWS::AccountId":
		if r.AccountID == "" {
			return "", errors.New("AWS::AccountId: resolver has no AccountID")
		}
		return r.AccountID, nil
	case "AWS::Partition":
		return r.partition(), nil
	case "AWS::URLSuffix":
		if r.URLSuffix == "" {
			return "amazonaws.com", nil
		}
		return r.URLSuffix, nil
	case "AWS::StackName":
		return r.stackName(), nil
	case "AWS::StackId":
		return fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/local",
			r.partition(), r.Region, r.AccountID, r.stackName()), nil
	case "AWS::NoValue":
		return "", errors.New("AWS::NoValue has no string value")
	}
	return "", fmt.Errorf("%w %q", ErrUnknownRef, name)
}

func (r Resolver) partition() string {
	if r.Partition == "" {
		return "aws"
	}
	return r.Partition
}

func (r Resolver) stackName() string {
	if r.StackName == "" {
		return "jit-local"
	}
	return r.StackName
}

func (r Resolver) getAtt(arg any) (string, error) {
	var res string
	var attr any
	switch x := arg.(type) {
	case string:
		var found bool
		res, attr, found = strings.Cut(x, ".")
		if !found {
			return "", fmt.Errorf("%q: want Resource.Attribute", x)
		}
	case []any:
		if len(x) != 2 {
			return "", fmt.Errorf("want [Resource, Attribute], got %v", x)
		}
		var ok bool
		if res, ok = x[0].(string); !ok {
			return "", fmt.Errorf("resource %v is not a name", x[0])
		}
		attr = x[1]
	default:
		return "", fmt.Errorf("want [Resource, Attribute], got %v", arg)
	}
	name, err := r.String(attr)
	if err != nil {
		return "", fmt.Errorf("attribute of %s: %w", res, err)
	}
	return r.attribute(res, name)
}

func (r Resolver) attribute(res, attr string) (string, error) {
	p, ok := r.Physical[res]
	if !ok {
		return "", fmt.Errorf("%w %q", ErrUnknownRef, res)
	}
	switch attr {
	case "Arn":
		if p.Arn == "" {
			return "", fmt.Errorf("%s.Arn: %w (resource has no ARN)", res, ErrUnsupported)
		}
		return p.Arn, nil
	case "Name":
		if p.Name == "" {
			return "", fmt.Errorf("%s.Name: resource has no physical name", res)
		}
		return p.Name, nil
	}
	return "", fmt.Errorf("%s.%s: %w", res, attr, ErrUnsupported)
}

func (r Resolver) sub(arg any) (string, error) {
	var text string
	vars := map[string]any{}
	switch x := arg.(type) {
	case string:
		text = x
	case []any:
		if len(x) != 2 {
			return "", fmt.Errorf("want [String, {Vars}], got %d elements", len(x))
		}
		s, ok := x[0].(string)
		if !ok {
			return "", fmt.Errorf("template %v is not a string", x[0])
		}
		m, ok := x[1].(map[string]any)
		if !ok {
			return "", fmt.Errorf("variables %v are not a mapping", x[1])
		}
		text, vars = s, m
	default:
		return "", fmt.Errorf("want String or [String, {Vars}], got %v", arg)
	}

	var b strings.Builder
	rest := text
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		b.WriteString(rest[:i])
		end := strings.IndexByte(rest[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ in %q", text)
		}
		name := rest[i+2 : i+end]
		rest = rest[i+end+1:]
		if lit, ok := strings.CutPrefix(name, "!"); ok {
			b.WriteString("${" + lit + "}")
			continue
		}
		s, err := r.subVar(name, vars)
		if err != nil {
			return "", fmt.Errorf("${%s}: %w", name, err)
		}
		b.WriteString(s)
	}
}

func (r Resolver) subVar(name string, vars map[string]any) (string, error) {
	name = strings.TrimSpace(name)
	if v, ok := vars[name]; ok {
		return r.String(v)
	}
	if !strings.HasPrefix(name, "AWS::") {
		if res, attr, ok := strings.Cut(name, "."); ok {
			return r.attribute(res, attr)
		}
	}
	return r.ref(name)
}

func (r Resolver) join(arg any) (string, error) {
	x, ok := arg.([]any)
	if !ok || len(x) != 2 {
		return "", fmt.Errorf("want [Delimiter, [Values]], got %v", arg)
	}
	delim, ok := x[0].(string)
	if !ok {
		return "", fmt.Errorf("delimiter %v is not a string", x[0])
	}
	parts, err := r.list(x[1])
	if err != nil {
		return "", err
	}
	return strings.Join(parts, delim), nil
}

func (r Resolver) selectFn(arg any) (string, error) {
	x, ok := arg.([]any)
	if !ok || len(x) != 2 {
		return "", fmt.Errorf("want [Index, [Values]], got %v", arg)
	}
	is, err := r.String(x[0])
	if err != nil {
		return "", fmt.Errorf("index: %w", err)
	}
	i, err := strconv.Atoi(is)
	if err != nil {
		return "", fmt.Errorf("index %q is not an integer", is)
	}
	items, err := r.list(x[1])
	if err != nil {
		return "", err
	}
	if i < 0 || i >= len(items) {
		return "", fmt.Errorf("index %d out of range for %d values", i, len(items))
	}
	return items[i], nil
}

// list resolves a literal list (of resolvable values) or a list-valued
// intrinsic function (Fn::Split).
func (r Resolver) list(v any) ([]string, error) {
	switch x := v.(type) {
	case []any:
		out := make([]string, 0, len(x))
		for i, e := range x {
			s, err := r.String(e)
			if err != nil {
				return nil, fmt.Errorf("value %d: %w", i, err)
			}
			out = append(out, s)
		}
		return out, nil
	case map[string]any:
		key, arg, ok := intrinsic(x)
		if !ok {
			break
		}
		if key != "Fn::Split" {
			return nil, fmt.Errorf("%s: %w as a list", key, ErrUnsupported)
		}
		a, ok := arg.([]any)
		if !ok || len(a) != 2 {
			return nil, fmt.Errorf("Fn::Split: want [Delimiter, String], got %v", arg)
		}
		delim, ok := a[0].(string)
		if !ok {
			return nil, fmt.Errorf("Fn::Split: delimiter %v is not a string", a[0])
		}
		s, err := r.String(a[1])
		if err != nil {
			return nil, fmt.Errorf("Fn::Split: %w", err)
		}
		return strings.Split(s, delim), nil
	}
	return nil, fmt.Errorf("%v is not a list", v)
}

func stringsToAny(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}
