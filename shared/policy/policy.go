package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Providers a target may name.
const (
	ProviderIAMRoleTrust = "iam_role_trust"
)

// Document is a whole policy: the rules for every resource.
type Document struct {
	Resources []Resource `yaml:"resources" json:"resources"`
}

// Resource is one thing that can be requested, with its rules.
type Resource struct {
	Name            string   `yaml:"name" json:"name"`
	Description     string   `yaml:"description,omitempty" json:"description,omitempty"`
	Target          Target   `yaml:"target" json:"target"`
	Requesters      []string `yaml:"requesters" json:"requesters"`
	MinDuration     Duration `yaml:"min_duration,omitempty" json:"min_duration,omitempty"`
	MaxDuration     Duration `yaml:"max_duration" json:"max_duration"`
	DefaultDuration Duration `yaml:"default_duration,omitempty" json:"default_duration,omitempty"`
	ReasonMinLength int      `yaml:"reason_min_length,omitempty" json:"reason_min_length,omitempty"`
	Approval        Approval `yaml:"approval" json:"approval"`
}

// Target says what a grant changes.
type Target struct {
	Provider string `yaml:"provider" json:"provider"`
	RoleARN  string `yaml:"role_arn" json:"role_arn"`
}

// Approval is the chain of levels a request must pass.
type Approval struct {
	Levels []Level `yaml:"levels" json:"levels"`
}

// Level is one step of an approval chain.
type Level struct {
	Name         string     `yaml:"name,omitempty" json:"name,omitempty"`
	Approvers    []Approver `yaml:"approvers" json:"approvers"`
	MinApprovals int        `yaml:"min_approvals,omitempty" json:"min_approvals,omitempty"`
	Timeout      Duration   `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// Approver is a person who may decide, and where to reach them. Principal,
// when set, is the ARN pattern of their AWS identity: a requester it
// matches is never asked to approve their own request (nor is one whose
// session name is this email).
type Approver struct {
	Name      string `yaml:"name,omitempty" json:"name,omitempty"`
	Email     string `yaml:"email" json:"email"`
	Principal string `yaml:"principal,omitempty" json:"principal,omitempty"`
}

// Defaults applied where a document is silent.
const (
	DefaultMinDuration   = time.Minute
	DefaultLevelTimeout  = time.Hour
	DefaultReasonMinimum = 1
	MaxReasonLength      = 1000
)

// Duration is a time.Duration written as "15m" in YAML and JSON.
type Duration time.Duration

// UnmarshalYAML reads "90s", "15m", "2h".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: %q is not a duration (use e.g. \"90s\", \"15m\", \"2h\")", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration back as "15m0s".
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Duration(d).String() + `"`), nil
}

// Std returns the duration as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Problem is one thing wrong with a document, located by line and field.
type Problem struct {
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("line %d: %s: %s", p.Line, p.Field, p.Message)
	}
	return fmt.Sprintf("%s: %s", p.Field, p.Message)
}

// InvalidError lists every problem found in a document.
type InvalidError struct {
	Problems []Problem
}

func (e *InvalidError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return "invalid policy: " + strings.Join(lines, "; ")
}

// MaxDocumentSize bounds what Parse reads.
const MaxDocumentSize = 256 << 10

var (
	namePattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	roleARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)
)

// Parse reads and validates a YAML policy document. Unknown fields are
// errors. All problems are reported at once in an *InvalidError.
func Parse(data []byte) (*Document, error) {
	if len(data) > MaxDocumentSize {
		return nil, &InvalidError{Problems: []Problem{{Field: "document", Message: fmt.Sprintf("is %d bytes; the limit is %d", len(data), MaxDocumentSize)}}}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &InvalidError{Problems: []Problem{yamlProblem(err)}}
	}
	if root.Kind == 0 {
		return nil, &InvalidError{Problems: []Problem{{Field: "document", Message: "is empty"}}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var doc Document
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, &InvalidError{Problems: []Problem{yamlProblem(err)}}
	}
	doc.applyDefaults()
	if problems := doc.validate(&root); len(problems) > 0 {
		return nil, &InvalidError{Problems: problems}
	}
	return &doc, nil
}

// yamlProblem turns a yaml.v3 error ("yaml: line 3: ...") into a Problem.
func yamlProblem(err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = strings.Join(te.Errors, "; ")
	}
	if i := strings.Index(msg, " not found in type "); i >= 0 && strings.Contains(msg, "field ") {
		j := strings.Index(msg, "field ")
		msg = msg[:j] + "unknown field \"" + msg[j+len("field "):i] + "\""
	}
	p := Problem{Field: "document", Message: msg}
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		p.Line = line
		if i := strings.Index(msg, ": "); i >= 0 {
			p.Message = msg[i+2:]
		}
	}
	return p
}

func (d *Document) applyDefaults() {
	for i := range d.Resources {
		r := &d.Resources[i]
		if r.MinDuration == 0 {
			r.MinDuration = Duration(DefaultMinDuration)
		}
		if r.ReasonMinLength == 0 {
			r.ReasonMinLength = DefaultReasonMinimum
		}
		if r.Target.Provider == "" {
			r.Target.Provider = ProviderIAMRoleTrust
		}
		for j := range r.Approval.Levels {
			l := &r.Approval.Levels[j]
			if l.MinApprovals == 0 {
				l.MinApprovals = 1
			}
			if l.Timeout == 0 {
				l.Timeout = Duration(DefaultLevelTimeout)
			}
		}
	}
}

// validate checks what the YAML types cannot: required fields, shapes,
// ranges and cross-field rules. root locates problems by line.
func (d *Document) validate(root *yaml.Node) []Problem {
	var ps []Problem
	add := func(path []any, format string, args ...any) {
		ps = append(ps, Problem{Line: lineOf(root, path), Field: fieldName(path), Message: fmt.Sprintf(format, args...)})
	}
	if len(d.Resources) == 0 {
		add([]any{"resources"}, "at least one resource is required")
	}
	seen := map[string]int{}
	for i, r := range d.Resources {
		at := func(rest ...any) []any { return append([]any{"resources", i}, rest...) }
		switch {
		case r.Name == "":
			add(at("name"), "is required")
		case !namePattern.MatchString(r.Name):
			add(at("name"), "%q must be lower-case letters, digits and dashes (at most 63)", r.Name)
		default:
			if j, dup := seen[r.Name]; dup {
				add(at("name"), "%q is already used by resources[%d]", r.Name, j)
			}
			seen[r.Name] = i
		}
		if r.Target.Provider != ProviderIAMRoleTrust {
			add(at("target", "provider"), "%q is not a known provider (known: %s)", r.Target.Provider, ProviderIAMRoleTrust)
		} else if !roleARNPattern.MatchString(r.Target.RoleARN) {
			add(at("target", "role_arn"), "%q is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)", r.Target.RoleARN)
		}
		if len(r.Requesters) == 0 {
			add(at("requesters"), "at least one principal pattern is required (e.g. \"arn:aws:sts::123456789012:assumed-role/Engineer/*\")")
		}
		for j, p := range r.Requesters {
			if !strings.HasPrefix(p, "arn:") && p != "*" {
				add(at("requesters", j), "%q must be a principal ARN pattern starting with \"arn:\" or \"*\"", p)
			}
		}
		if r.MaxDuration <= 0 {
			add(at("max_duration"), "is required and must be positive")
		} else if r.MinDuration > r.MaxDuration {
			add(at("min_duration"), "%s exceeds max_duration %s", r.MinDuration.Std(), r.MaxDuration.Std())
		}
		if r.MinDuration < 0 {
			add(at("min_duration"), "must be positive")
		}
		if r.DefaultDuration != 0 && (r.DefaultDuration < r.MinDuration || r.DefaultDuration > r.MaxDuration) {
			add(at("default_duration"), "%s is outside %s..%s", r.DefaultDuration.Std(), r.MinDuration.Std(), r.MaxDuration.Std())
		}
		if r.ReasonMinLength < 0 || r.ReasonMinLength > MaxReasonLength {
			add(at("reason_min_length"), "must be between 0 and %d", MaxReasonLength)
		}
		if len(r.Approval.Levels) == 0 {
			add(at("approval", "levels"), "at least one approval level is required")
		}
		for j, l := range r.Approval.Levels {
			lv := func(rest ...any) []any { return at(append([]any{"approval", "levels", j}, rest...)...) }
			if len(l.Approvers) == 0 {
				add(lv("approvers"), "at least one approver is required")
			}
			for k, a := range l.Approvers {
				if _, err := mail.ParseAddress(a.Email); err != nil || strings.ContainsAny(a.Email, "<> ") {
					add(lv("approvers", k, "email"), "%q is not an email address", a.Email)
				}
			}
			if l.MinApprovals < 1 {
				add(lv("min_approvals"), "must be at least 1")
			} else if l.MinApprovals > len(l.Approvers) {
				add(lv("min_approvals"), "%d exceeds the %d approvers listed", l.MinApprovals, len(l.Approvers))
			}
			if l.Timeout < Duration(time.Minute) {
				add(lv("timeout"), "%s is shorter than the 1m minimum", l.Timeout.Std())
			}
		}
	}
	return ps
}

// fieldName renders a path as resources[2].approval.levels[0].timeout.
func fieldName(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch v := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", v)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(v)
		}
	}
	return b.String()
}

// lineOf finds the line of the node at path, or of its nearest existing
// ancestor, so a missing field is reported where its parent is.
func lineOf(root *yaml.Node, path []any) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, p := range path {
		var next *yaml.Node
		switch v := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == v {
						next = n.Content[i+1]
						line = n.Content[i].Line
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && v < len(n.Content) {
				next = n.Content[v]
				line = next.Line
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}

// Resource returns the named resource.
func (d *Document) Resource(name string) (*Resource, bool) {
	for i := range d.Resources {
		if d.Resources[i].Name == name {
			return &d.Resources[i], true
		}
	}
	return nil, false
}

// MayRequest reports whether principal matches one of the resource's
// requester patterns. "*" in a pattern matches any run of characters, so
// "arn:aws:sts::123456789012:assumed-role/Engineer/*" admits every session
// of that role.
func (r *Resource) MayRequest(principal string) bool {
	for _, p := range r.Requesters {
		if Match(p, principal) {
			return true
		}
	}
	return false
}

// Match reports whether s matches pattern, where "*" matches any run of
// characters (including none) and everything else matches itself.
func Match(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, part := range parts[1 : len(parts)-1] {
		i := strings.Index(s, part)
		if i < 0 {
			return false
		}
		s = s[i+len(part):]
	}
	return strings.HasSuffix(s, last)
}
