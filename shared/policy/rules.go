package policy

import (
	"fmt"
	"strings"
	"time"
	// Time zones for auto-approve windows must load on any host, including
	// Lambda's minimal images.
	_ "time/tzdata"
)

// Holds reports whether the window contains all of [start, start+d): its
// start, every minute boundary inside it (windows have minute resolution)
// and its last second.
func (w *Window) Holds(start time.Time, d time.Duration) bool {
	if !w.Contains(start) {
		return false
	}
	end := start.Add(d)
	for t := start.Truncate(time.Minute).Add(time.Minute); t.Before(end); t = t.Add(time.Minute) {
		if !w.Contains(t) {
			return false
		}
	}
	return d <= time.Second || w.Contains(end.Add(-time.Second))
}

// Contains reports whether t falls inside the window, in the window's time
// zone. A window whose end is before its start runs past midnight and
// belongs to the day it starts on.
func (w *Window) Contains(t time.Time) bool {
	if w.loc == nil {
		return false
	}
	local := t.In(w.loc)
	minute := local.Hour()*60 + local.Minute()
	if w.start < w.end {
		return w.days[local.Weekday()] && minute >= w.start && minute < w.end
	}
	if minute >= w.start {
		return w.days[local.Weekday()]
	}
	if minute < w.end {
		return w.days[local.AddDate(0, 0, -1).Weekday()]
	}
	return false
}

// CheckTicket validates a ticket reference against the resource's rule.
func (r *Resource) CheckTicket(ticket string) error {
	t := r.Ticket
	if ticket == "" {
		if t != nil && t.Required {
			if t.Pattern != "" {
				return fmt.Errorf("is required for %q (format %s)", r.Name, t.Pattern)
			}
			return fmt.Errorf("is required for %q", r.Name)
		}
		return nil
	}
	if len(ticket) > 128 {
		return fmt.Errorf("is %d characters; the limit is 128", len(ticket))
	}
	if t != nil && t.re != nil && !t.re.MatchString(ticket) {
		return fmt.Errorf("%q does not match the format %s", ticket, t.Pattern)
	}
	return nil
}

// TicketURL links to a ticket, or is "" when the resource has no template.
func (r *Resource) TicketURL(ticket string) string {
	if ticket == "" || r.Ticket == nil || r.Ticket.URL == "" {
		return ""
	}
	return strings.ReplaceAll(r.Ticket.URL, "{ticket}", urlEscape(ticket))
}

func urlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// CheckStart validates a requested start time.
func (r *Resource) CheckStart(start, now time.Time) error {
	if start.IsZero() || !start.After(now) {
		return nil
	}
	if r.Start == nil || !r.Start.AllowFuture {
		return fmt.Errorf("%q does not allow a future start", r.Name)
	}
	if ahead := start.Sub(now); ahead > r.Start.MaxAhead.Std() {
		return fmt.Errorf("is %s ahead; %q allows at most %s", ahead.Round(time.Minute), r.Name, r.Start.MaxAhead.Std())
	}
	return nil
}
