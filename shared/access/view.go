package access

// View is a request as the API shows it and the CLI reads it: the
// request's own fields (Request's JSON form, which never carries the
// workflow's tokens), with the duration written as requesters write it,
// the chain as policy-like levels, and the history when asked for.
type View struct {
	Request
	Duration string      `json:"duration"`
	Chain    []LevelView `json:"chain"`
	History  []Event     `json:"history,omitempty"`
}

// LevelView is one level of a View's chain.
type LevelView struct {
	Name         string   `json:"name,omitempty"`
	Approvers    []string `json:"approvers"`
	EscalateTo   []string `json:"escalate_to,omitempty"`
	MinApprovals int      `json:"min_approvals"`
	Timeout      string   `json:"timeout"`
	OnTimeout    string   `json:"on_timeout"`
}

// View returns r as the API shows it, with its history when given.
func (r *Request) View(history []Event) View {
	chain := make([]LevelView, 0, len(r.Chain))
	for _, l := range r.Chain {
		chain = append(chain, LevelView{Name: l.Name, Approvers: l.Approvers, EscalateTo: l.EscalateTo,
			MinApprovals: l.MinApprovals, Timeout: FormatDuration(l.Timeout), OnTimeout: l.OnTimeout})
	}
	return View{Request: *r, Duration: FormatDuration(r.Duration), Chain: chain, History: history}
}
