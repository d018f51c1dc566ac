package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// printJSON writes v as the one JSON document of this invocation.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// withFields returns the API's JSON object raw with extra fields added, so
// --output json passes on everything the API said.
func withFields(raw json.RawMessage, extra map[string]any) (map[string]json.RawMessage, error) {
	obj := map[string]json.RawMessage{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, err
		}
	}
	for k, v := range extra {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		obj[k] = b
	}
	return obj, nil
}

// timeText is a moment for people: local time and how far from now.
func (a *app) timeText(t time.Time) string {
	return t.In(a.loc).Format("2006-01-02 15:04:05 MST") + " (" + a.relative(t) + ")"
}

// relative says "in 14m" or "3m ago".
func (a *app) relative(t time.Time) string {
	d := t.Sub(a.now())
	if d > -time.Second && d < time.Second {
		return "just now"
	}
	if d >= 0 {
		return "in " + roundDuration(d)
	}
	return roundDuration(-d) + " ago"
}

// roundDuration is a duration to the second, or minute above an hour,
// without zero units ("1h5m", "42s").
func roundDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return "0s"
	case d < time.Hour:
		d = d.Round(time.Second)
	default:
		d = d.Round(time.Minute)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// table prints rows under a header, aligned.
func table(w io.Writer, header []string, rows [][]string) {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		if line != "" {
			fmt.Fprintln(w, strings.TrimRight(line, " \n"))
		}
	}
}

// truncate cuts s to n runes with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(strings.Join(strings.Fields(s), " "))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}

// shortPrincipal is the readable end of an ARN: "Engineer/alice@example.com".
func shortPrincipal(arn string) string {
	if i := strings.Index(arn, ":assumed-role/"); i >= 0 {
		return arn[i+len(":assumed-role/"):]
	}
	if i := strings.LastIndex(arn, ":"); i >= 0 && strings.HasPrefix(arn, "arn:") {
		return arn[i+1:]
	}
	return arn
}

func nameColon(s string) string {
	if s == "" {
		return ""
	}
	return s + ": "
}

func details(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		v := m[k]
		if strings.ContainsAny(v, " \t") {
			v = fmt.Sprintf("%q", v)
		}
		fmt.Fprintf(&b, "%s=%s", k, v)
	}
	return b.String()
}

// statusLine is one line about where a request is, for people.
func (a *app) statusLine(r *request) string {
	switch r.Status {
	case "pending":
		return "pending: waiting for approval from " + approversText(r.Approvers) + progressText(r)
	case "approved":
		by := "approved by " + approvedBy(r)
		if r.StartAt != nil && r.StartAt.After(a.now()) {
			return by + ": access starts " + a.timeText(*r.StartAt)
		}
		return by + ": granting access"
	case "active":
		if r.ExpiresAt != nil {
			return "active until " + a.timeText(*r.ExpiresAt)
		}
		return "active"
	case "denied":
		return "denied by " + firstNonEmpty(r.DecidedBy, "an approver")
	case "timed_out":
		return "timed out: nobody decided in time"
	case "cancelled":
		return "cancelled"
	case "failed":
		return "failed: access could not be granted or ended cleanly (see the history)"
	case "revoked":
		return "revoked: access was taken back"
	case "expired":
		if r.ExpiresAt != nil {
			return "expired " + a.relative(*r.ExpiresAt)
		}
		return "expired"
	}
	return string(r.Status)
}

// approvedBy names who or what approved: a person, a policy rule, or
// break-glass.
func approvedBy(r *request) string {
	switch {
	case r.BreakGlass:
		return "break-glass"
	case r.AutoApprovedBy != "":
		return "policy rule " + r.AutoApprovedBy
	}
	return firstNonEmpty(r.DecidedBy, "an approver")
}

// progressText says how far through its approval chain a pending request
// is, when there is more than one approval to collect.
func progressText(r *request) string {
	var parts []string
	if r.Level >= 0 && r.Level < len(r.Chain) {
		if need := r.Chain[r.Level].MinApprovals; need > 1 {
			parts = append(parts, fmt.Sprintf("%d of %d approvals", r.Approvals, need))
		}
	}
	if len(r.Chain) > 1 {
		name := ""
		if r.Level < len(r.Chain) && r.Chain[r.Level].Name != "" {
			name = " (" + r.Chain[r.Level].Name + ")"
		}
		parts = append(parts, fmt.Sprintf("level %d of %d%s", r.Level+1, len(r.Chain), name))
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, ", ")
}

func approversText(approvers []string) string {
	if len(approvers) == 0 {
		return "the resource's approvers"
	}
	return strings.Join(approvers, ", ")
}

// nextStep says what to run next for a request in its status.
func nextStep(r *request) string {
	switch r.Status {
	case "pending", "approved":
		return fmt.Sprintf("Wait for it:  jit wait %s", r.ID)
	case "active":
		return fmt.Sprintf("Use it:       jit exec %s -- aws sts get-caller-identity\n              eval \"$(jit creds %s)\"", r.ID, r.ID)
	case "denied", "timed_out", "cancelled", "failed", "revoked", "expired":
		return fmt.Sprintf("Ask again:    jit request %s --duration %s --reason \"...\"", r.Resource, firstNonEmpty(r.Duration, "15m"))
	}
	return ""
}

// printRequest prints a request for people: fields, then its history.
func (a *app) printRequest(w io.Writer, r *request) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("Request", r.ID)
	row("Status", a.statusLine(r))
	res := r.Resource
	if d := r.Target.String(); d != "" {
		res += "  (" + d + ")"
	}
	row("Resource", res)
	row("Duration", r.Duration)
	row("Reason", r.Reason)
	if r.Ticket != "" {
		row("Ticket", strings.TrimSpace(r.Ticket+"  "+r.TicketURL))
	}
	if r.BreakGlass {
		row("Break-glass", "yes: approved on the spot, approvers notified")
	}
	if r.AutoApprovedBy != "" {
		row("Auto-approved", "by policy rule "+r.AutoApprovedBy)
	}
	if len(r.Chain) > 1 {
		var levels []string
		for i, l := range r.Chain {
			levels = append(levels, fmt.Sprintf("%d. %s%d of %s", i+1, nameColon(l.Name), max(l.MinApprovals, 1), strings.Join(l.Approvers, ", ")))
		}
		row("Approval", strings.Join(levels, "; "))
	}
	if r.StartAt != nil {
		row("Starts", a.timeText(*r.StartAt))
	}
	row("Requester", r.Requester)
	row("Approvers", strings.Join(r.Approvers, ", "))
	row("Created", a.timeText(r.CreatedAt))
	if r.DecidedAt != nil {
		row("Decided", a.timeText(*r.DecidedAt)+" by "+firstNonEmpty(r.DecidedBy, approvedBy(r)))
	}
	if r.GrantedAt != nil {
		row("Granted", a.timeText(*r.GrantedAt))
	}
	if r.ExpiresAt != nil {
		row("Expires", a.timeText(*r.ExpiresAt))
	}
	if r.EndedAt != nil {
		row("Ended", a.timeText(*r.EndedAt))
	}
	tw.Flush()
	if len(r.History) > 0 {
		fmt.Fprintln(w, "\nHistory:")
		var rows [][]string
		for _, e := range r.History {
			rows = append(rows, []string{"  " + e.At.In(a.loc).Format("2006-01-02 15:04:05"), e.Type, shortPrincipal(e.Actor), details(e.Detail)})
		}
		table(w, []string{"  TIME", "EVENT", "ACTOR", "DETAIL"}, rows)
	}
	if s := nextStep(r); s != "" {
		fmt.Fprintf(w, "\n%s\n", s)
	}
}
