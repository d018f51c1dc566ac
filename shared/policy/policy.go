package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/jitaccess/jit/shared/channel"
	"github.com/jitaccess/jit/shared/link"
	"github.com/jitaccess/jit/shared/target"
)

// Document is a whole policy: the rules for every resource.
type Document struct {
	// Identities says which principals speak for a person (see
	// access.Directory); without it, only ARN patterns match anyone.
	Identities *Identities `yaml:"identities,omitempty" json:"identities,omitempty"`
	Resources  []Resource  `yaml:"resources" json:"resources"`
	// Warnings are what validation found risky but allowed.
	Warnings []Problem `yaml:"-" json:"-"`
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
	Ticket          *Ticket  `yaml:"ticket,omitempty" json:"ticket,omitempty"`
	Start           *Start   `yaml:"start,omitempty" json:"start,omitempty"`
	// Channels are how approvers are reached: email (default), sms, slack.
	Channels    []string    `yaml:"channels,omitempty" json:"channels,omitempty"`
	Approval    Approval    `yaml:"approval" json:"approval"`
	AutoApprove []AutoRule  `yaml:"auto_approve,omitempty" json:"auto_approve,omitempty"`
	BreakGlass  *BreakGlass `yaml:"break_glass,omitempty" json:"break_glass,omitempty"`
}

// Ticket says whether a request must cite a ticket, what one looks like,
// and how to link to it.
type Ticket struct {
	Required bool   `yaml:"required,omitempty" json:"required,omitempty"`
	Pattern  string `yaml:"pattern,omitempty" json:"pattern,omitempty"`
	// URL is a template with {ticket}, e.g. https://tracker/browse/{ticket}.
	URL string `yaml:"url,omitempty" json:"url,omitempty"`

	re *regexp.Regexp
}

// Start says whether a request may ask to start later, and how far ahead.
type Start struct {
	AllowFuture bool     `yaml:"allow_future" json:"allow_future"`
	MaxAhead    Duration `yaml:"max_ahead,omitempty" json:"max_ahead,omitempty"`
}

// AutoRule approves a request without a person when all of its conditions
// hold. Always stands alone; the others combine.
type AutoRule struct {
	Name        string   `yaml:"name,omitempty" json:"name,omitempty"`
	Always      bool     `yaml:"always,omitempty" json:"always,omitempty"`
	MaxDuration Duration `yaml:"max_duration,omitempty" json:"max_duration,omitempty"`
	Requesters  []string `yaml:"requesters,omitempty" json:"requesters,omitempty"`
	Window      *Window  `yaml:"window,omitempty" json:"window,omitempty"`
}

// Window is a weekly time window in a named time zone, e.g. weekdays
// 09:00–17:00 Europe/Berlin.
type Window struct {
	Days     []string `yaml:"days" json:"days"`
	Start    string   `yaml:"start" json:"start"`
	End      string   `yaml:"end" json:"end"`
	Timezone string   `yaml:"timezone" json:"timezone"`

	loc        *time.Location
	start, end int // minutes after midnight
	days       map[time.Weekday]bool
}

// BreakGlass lets a requester skip approval in an emergency: access is
// granted at once, everyone in the chain is told, and the request is
// flagged in the audit trail.
type BreakGlass struct {
	Allowed         bool `yaml:"allowed" json:"allowed"`
	ReasonMinLength int  `yaml:"reason_min_length,omitempty" json:"reason_min_length,omitempty"`
}

// Target says what a grant changes: a provider and its parameters, which
// the provider's target.Kind validates.
type Target = target.Target

// Approval is the chain of levels a request must pass.
type Approval struct {
	Levels []Level `yaml:"levels" json:"levels"`
	// DistinctApprovers refuses a chain in which one person is listed at
	// two levels, so every level is a different person's decision.
	// Without it, such a chain is allowed with a warning: that person's
	// approvals alone satisfy every level they are on.
	DistinctApprovers bool `yaml:"distinct_approvers,omitempty" json:"distinct_approvers,omitempty"`
}

// Level is one step of an approval chain.
type Level struct {
	Name         string     `yaml:"name,omitempty" json:"name,omitempty"`
	Approvers    []Approver `yaml:"approvers" json:"approvers"`
	MinApprovals int        `yaml:"min_approvals,omitempty" json:"min_approvals,omitempty"`
	Timeout      Duration   `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// EscalateTo are approvers added to this level when it times out; the
	// level then waits one more timeout.
	EscalateTo []Approver `yaml:"escalate_to,omitempty" json:"escalate_to,omitempty"`
	// OnTimeout is what happens when the level (after any escalation) ends
	// without a quorum: "fail" ends the request as timed_out, "next" moves
	// on to the next level.
	OnTimeout string `yaml:"on_timeout,omitempty" json:"on_timeout,omitempty"`
}

// What a level does when it times out.
const (
	OnTimeoutFail = "fail"
	OnTimeoutNext = "next"
)

// Defaults applied where a document is silent.
const (
	DefaultMinDuration   = time.Minute
	DefaultLevelTimeout  = time.Hour
	DefaultReasonMinimum = 1
	MaxReasonLength      = 1000
	// DefaultBreakGlassReason is the minimum reason length for break-glass:
	// an emergency must be explained.
	DefaultBreakGlassReason = 20
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
	namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
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
			r.Target.Provider = target.Default
		}
		for j := range r.Approval.Levels {
			l := &r.Approval.Levels[j]
			if l.MinApprovals == 0 {
				l.MinApprovals = 1
			}
			if l.Timeout == 0 {
				l.Timeout = Duration(DefaultLevelTimeout)
			}
			if l.OnTimeout == "" {
				l.OnTimeout = OnTimeoutFail
			}
		}
		if len(r.Channels) == 0 {
			r.Channels = []string{channel.Email}
		}
		if r.BreakGlass != nil && r.BreakGlass.ReasonMinLength == 0 {
			r.BreakGlass.ReasonMinLength = DefaultBreakGlassReason
		}
		for j := range r.AutoApprove {
			if r.AutoApprove[j].Name == "" {
				r.AutoApprove[j].Name = fmt.Sprintf("auto_approve[%d]", j)
			}
		}
	}
}

// validate checks what the YAML types cannot: required fields, shapes,
// ranges and cross-field rules. root locates problems by line.
func (d *Document) validate(root *yaml.Node) []Problem {
	var ps []Problem
	if len(d.Resources) == 0 {
		ps = append(ps, Problem{Line: lineOf(root, []any{"resources"}), Field: "resources", Message: "at least one resource is required"})
	}
	seen := map[string]int{}
	for i := range d.Resources {
		v := &validator{root: root, base: []any{"resources", i}}
		v.resource(&d.Resources[i])
		if name := d.Resources[i].Name; name != "" {
			if j, dup := seen[name]; dup {
				v.add(v.at("name"), "%q is already used by resources[%d]", name, j)
			} else {
				seen[name] = i
			}
		}
		ps = append(ps, v.problems...)
		d.Warnings = append(d.Warnings, v.warnings...)
	}
	iv := &validator{root: root, base: []any{"identities"}}
	iv.identities(d.Identities)
	ps = append(ps, iv.problems...)
	d.Warnings = append(d.Warnings, iv.warnings...)
	if d.Identities == nil || len(d.Identities.TrustedRoles)+len(d.Identities.People) == 0 {
		for i := range d.Resources {
			if r := &d.Resources[i]; hasEmailPattern(r.Requesters) {
				d.Warnings = append(d.Warnings, Problem{Line: lineOf(root, []any{"resources", i, "requesters"}), Field: fieldName([]any{"resources", i, "requesters"}),
					Message: "email patterns match only people the policy identifies (identities.trusted_roles or identities.people), and there are none: they match nobody"})
			}
		}
	}
	return ps
}

// validator collects the problems of one resource.
type validator struct {
	root     *yaml.Node
	base     []any
	problems []Problem
	warnings []Problem
}

func (v *validator) at(rest ...any) []any {
	return append(append([]any{}, v.base...), rest...)
}

func (v *validator) add(path []any, format string, args ...any) {
	v.problems = append(v.problems, Problem{Line: lineOf(v.root, path), Field: fieldName(path), Message: fmt.Sprintf(format, args...)})
}

func (v *validator) warn(path []any, format string, args ...any) {
	v.warnings = append(v.warnings, Problem{Line: lineOf(v.root, path), Field: fieldName(path), Message: fmt.Sprintf(format, args...)})
}

var (
	clockPattern = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
	weekdays     = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}
)

func (v *validator) resource(r *Resource) {
	switch {
	case r.Name == "":
		v.add(v.at("name"), "is required")
	case !namePattern.MatchString(r.Name):
		v.add(v.at("name"), "%q must be lower-case letters, digits and dashes (at most 63)", r.Name)
	}
	for _, p := range r.Target.Validate() {
		v.add(v.at("target", p.Param), "%s", p.Message)
	}
	if len(r.Requesters) == 0 {
		v.add(v.at("requesters"), "at least one pattern is required (a principal ARN pattern like \"arn:aws:sts::123456789012:assumed-role/Engineer/*\" or an email pattern like \"*@example.com\")")
	}
	v.patterns(r.Requesters, "requesters")
	if r.MaxDuration <= 0 {
		v.add(v.at("max_duration"), "is required and must be positive")
	} else if r.MinDuration > r.MaxDuration {
		v.add(v.at("min_duration"), "%s exceeds max_duration %s", r.MinDuration.Std(), r.MaxDuration.Std())
	}
	if r.MinDuration < 0 {
		v.add(v.at("min_duration"), "must be positive")
	}
	if r.DefaultDuration != 0 && (r.DefaultDuration < r.MinDuration || r.DefaultDuration > r.MaxDuration) {
		v.add(v.at("default_duration"), "%s is outside %s..%s", r.DefaultDuration.Std(), r.MinDuration.Std(), r.MaxDuration.Std())
	}
	if r.ReasonMinLength < 0 || r.ReasonMinLength > MaxReasonLength {
		v.add(v.at("reason_min_length"), "must be between 0 and %d", MaxReasonLength)
	}
	if t := r.Ticket; t != nil {
		if t.Pattern != "" {
			re, err := regexp.Compile(t.Pattern)
			if err != nil {
				v.add(v.at("ticket", "pattern"), "is not a valid regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
			} else {
				t.re = re
			}
		}
		if t.URL != "" && (!strings.Contains(t.URL, "{ticket}") || !(strings.HasPrefix(t.URL, "https://") || strings.HasPrefix(t.URL, "http://"))) {
			v.add(v.at("ticket", "url"), "%q must be an http(s) URL containing {ticket}", t.URL)
		}
		if !t.Required && t.Pattern == "" && t.URL == "" {
			v.add(v.at("ticket"), "says nothing: set required, pattern or url")
		}
	}
	if st := r.Start; st != nil {
		if st.AllowFuture && st.MaxAhead <= 0 {
			v.add(v.at("start", "max_ahead"), "is required when allow_future is true (e.g. \"72h\")")
		}
		if !st.AllowFuture && st.MaxAhead != 0 {
			v.add(v.at("start", "max_ahead"), "has no effect unless allow_future is true")
		}
	}
	for j, c := range r.Channels {
		if channel.Lookup(c) == nil {
			v.add(v.at("channels", j), "%q is not a channel (%s)", c, strings.Join(channel.Names(), ", "))
		}
	}
	if len(r.Approval.Levels) == 0 {
		v.add(v.at("approval", "levels"), "at least one approval level is required")
	}
	for j := range r.Approval.Levels {
		v.level(r, j)
	}
	v.distinctLevels(r)
	v.executionBound(r)
	for j := range r.AutoApprove {
		v.autoRule(&r.AutoApprove[j], j)
	}
	if bg := r.BreakGlass; bg != nil && (bg.ReasonMinLength < 1 || bg.ReasonMinLength > MaxReasonLength) {
		v.add(v.at("break_glass", "reason_min_length"), "must be between 1 and %d", MaxReasonLength)
	}
}

// MaxExecution bounds how long one request's workflow may run: Step
// Functions ends a Standard workflow execution after one year (Step
// Functions Developer Guide, "Step Functions service quotas": maximum
// execution time), which would end a grant's Hold without its revoke. A
// week of margin covers retries and the revoke itself.
const MaxExecution = 358 * 24 * time.Hour

// executionBound refuses a resource whose longest request would outlive
// an execution: the furthest start, every level waiting its timeout (twice
// where it escalates), and the longest grant.
func (v *validator) executionBound(r *Resource) {
	total := r.MaxDuration.Std()
	if r.Start != nil && r.Start.AllowFuture {
		total += r.Start.MaxAhead.Std()
	}
	for _, l := range r.Approval.Levels {
		wait := l.Timeout.Std()
		if len(l.EscalateTo) > 0 {
			wait *= 2
		}
		total += wait
	}
	if total > MaxExecution {
		v.add(v.at("max_duration"), "with start.max_ahead and the levels' timeouts a request could take %s, longer than the %s one request's workflow may run (Step Functions ends an execution after a year)", total, MaxExecution)
	}
}

// distinctLevels finds a person listed at two levels: refused when the
// chain asks for distinct approvers, a warning otherwise.
func (v *validator) distinctLevels(r *Resource) {
	first := map[string]int{}
	for j, l := range r.Approval.Levels {
		for _, list := range []struct {
			field string
			as    []Approver
		}{{"approvers", l.Approvers}, {"escalate_to", l.EscalateTo}} {
			for k, a := range list.as {
				email := strings.ToLower(strings.TrimSpace(a.Email))
				at, seen := first[email]
				switch {
				case !seen:
					first[email] = j
					continue
				case at == j:
					continue
				}
				path := v.at("approval", "levels", j, list.field, k, "email")
				if r.Approval.DistinctApprovers {
					v.add(path, "%s is also at level %d; distinct_approvers needs a different person at every level", a.Email, at+1)
				} else {
					v.warn(path, "%s is also at level %d, so their approvals alone satisfy both levels; set approval.distinct_approvers to refuse this", a.Email, at+1)
				}
			}
		}
	}
}

func (v *validator) level(r *Resource, j int) {
	l := r.Approval.Levels[j]
	at := func(rest ...any) []any { return v.at(append([]any{"approval", "levels", j}, rest...)...) }
	if len(l.Approvers) == 0 {
		v.add(at("approvers"), "at least one approver is required")
	}
	emails := map[string]bool{}
	check := func(list []Approver, field string) {
		for k, a := range list {
			// Every approver has an email address, and whatever other
			// addresses they give must be valid on their channel.
			for _, ch := range channel.Names() {
				kind, addr := channel.Lookup(ch), a.Address(ch)
				if (addr != "" || ch == channel.Email) && !kind.Valid(addr) {
					v.add(at(field, k, kind.Field), "%q is not %s", addr, kind.Want)
				}
			}
			if channel.Lookup(channel.Email).Valid(a.Email) && emails[strings.ToLower(a.Email)] {
				v.add(at(field, k, "email"), "%s is listed twice at this level", a.Email)
			}
			emails[strings.ToLower(a.Email)] = true
			if a.Principal != "" && !strings.HasPrefix(a.Principal, "arn:") {
				v.add(at(field, k, "principal"), "%q must be a principal ARN pattern starting with \"arn:\"", a.Principal)
			}
		}
	}
	check(l.Approvers, "approvers")
	check(l.EscalateTo, "escalate_to")
	if l.MinApprovals < 1 {
		v.add(at("min_approvals"), "must be at least 1")
	} else if n := len(l.Approvers) + len(l.EscalateTo); l.MinApprovals > n {
		v.add(at("min_approvals"), "%d exceeds the %d approvers listed", l.MinApprovals, n)
	}
	if l.Timeout < Duration(10*time.Second) {
		v.add(at("timeout"), "%s is shorter than the 10s minimum", l.Timeout.Std())
	}
	if l.Timeout > Duration(link.MaxLifetime) {
		// Approvers decide through links; a level outliving them would
		// wait for decisions nobody can make any more.
		v.add(at("timeout"), "%s is longer than %dh, the most a decision link lives", l.Timeout.Std(), int(link.MaxLifetime.Hours()))
	}
	switch l.OnTimeout {
	case OnTimeoutFail:
	case OnTimeoutNext:
		if j == len(r.Approval.Levels)-1 {
			v.add(at("on_timeout"), "\"next\" on the last level has no next level to move to; use \"fail\"")
		}
	default:
		v.add(at("on_timeout"), "%q must be \"fail\" or \"next\"", l.OnTimeout)
	}
}

func (v *validator) autoRule(a *AutoRule, j int) {
	at := func(rest ...any) []any { return v.at(append([]any{"auto_approve", j}, rest...)...) }
	conditions := 0
	if a.MaxDuration != 0 {
		conditions++
		if a.MaxDuration < 0 {
			v.add(at("max_duration"), "must be positive")
		}
	}
	if len(a.Requesters) > 0 {
		conditions++
		v.patterns(a.Requesters, "auto_approve", j, "requesters")
	}
	if w := a.Window; w != nil {
		conditions++
		v.window(w, at("window"))
	}
	switch {
	case a.Always && conditions > 0:
		v.add(at("always"), "cannot be combined with other conditions; a rule with always approves everything")
	case !a.Always && conditions == 0:
		v.add(at(), "has no condition: set always, max_duration, requesters or window")
	}
}

func (v *validator) window(w *Window, path []any) {
	sub := func(f string) []any { return append(append([]any{}, path...), f) }
	w.days = map[time.Weekday]bool{}
	if len(w.Days) == 0 {
		v.add(sub("days"), "at least one day is required (mon, tue, wed, thu, fri, sat, sun)")
	}
	for _, d := range w.Days {
		wd, ok := weekdays[strings.ToLower(d)]
		if !ok {
			v.add(sub("days"), "%q is not a day (mon, tue, wed, thu, fri, sat, sun)", d)
			continue
		}
		w.days[wd] = true
	}
	var okStart, okEnd bool
	if w.start, okStart = clockMinutes(w.Start); !okStart {
		v.add(sub("start"), "%q is not a time of day (HH:MM, 24-hour)", w.Start)
	}
	if w.end, okEnd = clockMinutes(w.End); !okEnd {
		v.add(sub("end"), "%q is not a time of day (HH:MM, 24-hour)", w.End)
	}
	if okStart && okEnd && w.start == w.end {
		v.add(sub("end"), "equals start; the window would be empty")
	}
	if w.Timezone == "" {
		v.add(sub("timezone"), "is required (an IANA name like \"Europe/Berlin\" or \"UTC\")")
	} else if loc, err := time.LoadLocation(w.Timezone); err != nil {
		v.add(sub("timezone"), "%q is not a known time zone (IANA names like \"Europe/Berlin\")", w.Timezone)
	} else {
		w.loc = loc
	}
}

func clockMinutes(s string) (int, bool) {
	if !clockPattern.MatchString(s) {
		return 0, false
	}
	return int(s[0]-'0')*600 + int(s[1]-'0')*60 + int(s[3]-'0')*10 + int(s[4]-'0'), true
}

// patterns checks requester patterns: principal ARN patterns, or email
// patterns matched against an assumed role's session name.
func (v *validator) patterns(ps []string, field ...any) {
	for j, p := range ps {
		path := v.at(append(append([]any{}, field...), j)...)
		switch {
		case p == "*", strings.HasPrefix(p, "arn:"), strings.Contains(p, "@"):
			if anyRole(p) {
				v.warn(path, "%q matches sessions of any role, including roles whose session names their callers choose; name the roles", p)
			}
		default:
			v.add(path, "%q must be a principal ARN pattern (\"arn:...\"), an email pattern (\"*@example.com\") or \"*\"", p)
		}
	}
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

// Match reports whether s matches pattern, where "*" matches any run of
// characters (including none) and everything else matches itself. It is
// how every principal pattern in a policy is read.
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
