package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jitaccess/jit/shared/access"
)

var waitCommand = &command{
	name: "wait", args: "<request-id> [--timeout D]",
	summary: "wait until a request is active or ends; the exit code tells the outcome",
	about: `Wait for a request you made to be decided and granted. Exits 0 when it is
active, 3 denied, 4 timed out, 5 cancelled, 6 failed/revoked/expired, 7 when
--timeout passes first (the request stays open). Progress goes to stderr.`,
	examples: `  jit wait 01jb2k3m4n5p6q7r8s9t0vwxyz
  jit wait 01jb2k3m4n5p6q7r8s9t0vwxyz --timeout 10m && ./deploy.sh`,
	setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string, []string) error {
		timeout := fs.Duration("timeout", time.Hour, "give up waiting after this `DURATION` (exit 7); the request stays open")
		quiet := fs.Bool("quiet", false, "print only the request id at the end")
		fs.BoolVar(quiet, "q", false, "alias:quiet")
		return func(ctx context.Context, pos, _ []string) error {
			id, err := requestID(pos)
			if err != nil {
				return err
			}
			if *timeout <= 0 {
				return usageErr("--timeout must be positive, e.g. 30m")
			}
			s, err := a.connect(ctx)
			if err != nil {
				return err
			}
			r, err := s.api.getRequest(ctx, id)
			if err != nil {
				return err
			}
			start := a.now()
			final, werr := a.waitFor(ctx, s.api, r, *timeout)
			if final == nil {
				return werr
			}
			return a.finish(final, nil, werr, *quiet, a.now().Sub(start))
		}
	},
}

// requestID checks the one positional argument is a request id.
func requestID(pos []string) (string, error) {
	switch {
	case len(pos) == 0:
		return "", usageErr("missing <request-id> (printed by `jit request`; `jit list` shows yours)")
	case len(pos) > 1:
		return "", usageErr("one request id at a time; got %s", strings.Join(quoteAll(pos), " "))
	}
	id := strings.ToLower(strings.TrimSpace(pos[0]))
	if !validID(id) {
		return "", usageErr("%q is not a request id: ids are 26 lower-case letters and digits, as `jit request` and `jit list` print them", pos[0])
	}
	return id, nil
}

// final reports whether a request's status will not change on its own
// into something --wait should keep waiting for. Unknown statuses (from a
// newer API) are waited on until --timeout.
func final(status string) bool {
	switch status {
	case "active", "denied", "timed_out", "cancelled", "failed", "revoked", "expired":
		return true
	}
	return false
}

var errDeadline = errors.New("wait deadline reached")

// waitFor polls the request until it is final, the timeout passes
// (errDeadline) or ctx ends. It returns the last request seen, or nil if it
// never read one. Polls start at pollMin and back off to pollMax; a status
// change polls quickly again. Transient API failures are reported and
// retried.
func (a *app) waitFor(ctx context.Context, c *client, r *request, timeout time.Duration) (*request, error) {
	return a.pollUntil(ctx, c, r, timeout, final)
}

// pollUntil polls the request until done(status) holds; see waitFor.
func (a *app) pollUntil(ctx context.Context, c *client, r *request, timeout time.Duration, done func(string) bool) (*request, error) {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	p := &progress{a: a, tty: a.stderrTTY, start: a.now(), id: r.ID}
	defer p.done()
	if done(string(r.Status)) && len(r.History) == 0 {
		if got, err := c.getRequest(wctx, r.ID); err == nil {
			r = got
		}
	}
	p.update(r)
	interval := a.pollMin
	failures := 0
	for !done(string(r.Status)) {
		if err := p.sleep(wctx, interval); err != nil {
			return r, a.waitErr(ctx, r, err)
		}
		got, err := c.getRequest(wctx, r.ID)
		if err != nil {
			if wctx.Err() != nil {
				return r, a.waitErr(ctx, r, wctx.Err())
			}
			if transient(err) && failures < 10 {
				failures++
				p.note(fmt.Sprintf("could not read the request (%s); retrying", a.classify(err).Message))
				interval = a.pollMax
				continue
			}
			return r, err
		}
		failures = 0
		if got.Status != r.Status {
			interval = a.pollMin
		} else if interval = interval * 3 / 2; interval > a.pollMax {
			interval = a.pollMax
		}
		r = got
		p.update(r)
	}
	return r, nil
}

func (a *app) waitErr(ctx context.Context, r *request, err error) error {
	if ctx.Err() != nil {
		return &exitError{Code: exitInterrupted, Kind: "interrupted",
			Message: fmt.Sprintf("interrupted; request %s is unchanged (%s)", r.ID, r.Status),
			Hint:    fmt.Sprintf("`jit wait %s` keeps waiting", r.ID)}
	}
	return errDeadline
}

// transient reports a failure worth polling through.
func transient(err error) bool {
	var ne *netError
	var ae *apiError
	return errors.As(err, &ne) || errors.As(err, &ae) && (ae.Status == 429 || ae.Status >= 500)
}

// finish reports the outcome of a wait and returns its exit code.
func (a *app) finish(r *request, extra map[string]any, werr error, quiet bool, waited time.Duration) error {
	if werr != nil && !errors.Is(werr, errDeadline) {
		return werr
	}
	code := exitCodeFor(string(r.Status))
	if werr != nil {
		code = exitDeadline
	}
	switch {
	case a.json():
		if err := a.printCreated(r, extra); err != nil {
			return err
		}
	case quiet:
		fmt.Fprintln(a.stdout, r.ID)
	default:
		a.printOutcome(r, werr != nil, waited)
	}
	if code == exitOK {
		return nil
	}
	return outcome(code)
}

func (a *app) printOutcome(r *request, deadline bool, waited time.Duration) {
	w := a.stdout
	if deadline {
		fmt.Fprintf(w, "Stopped waiting after %s: request %s is still %s.\nIt stays open: `jit wait %s` keeps waiting.\n",
			roundDuration(waited), r.ID, a.statusLine(r), r.ID)
		return
	}
	last := lastEvent(r, string(r.Status))
	switch r.Status {
	case "active":
		fmt.Fprintf(w, "Access granted: request %s, %s", r.ID, r.Resource)
		if d := r.Target.String(); d != "" {
			fmt.Fprintf(w, " (%s)", d)
		}
		if r.ExpiresAt != nil {
			fmt.Fprintf(w, " until %s", a.timeText(*r.ExpiresAt))
		}
		fmt.Fprintf(w, ".\n\n%s\n", nextStep(r))
	case "denied":
		fmt.Fprintf(w, "Request %s was denied by %s", r.ID, firstNonEmpty(r.DecidedBy, "an approver"))
		if c := last.Detail["comment"]; c != "" {
			fmt.Fprintf(w, ": %q", c)
		}
		fmt.Fprintln(w, ".")
	case "timed_out":
		fmt.Fprintf(w, "Request %s timed out: nobody decided in time (approvers: %s).\n", r.ID, approversText(r.Approvers))
	case "cancelled":
		fmt.Fprintf(w, "Request %s was cancelled", r.ID)
		if last.Actor != "" {
			fmt.Fprintf(w, " by %s", shortPrincipal(last.Actor))
		}
		fmt.Fprintln(w, ".")
	case "failed":
		fmt.Fprintf(w, "Request %s failed", r.ID)
		if d := details(last.Detail); d != "" {
			fmt.Fprintf(w, ": %s", d)
		}
		fmt.Fprintln(w, ". `jit status "+r.ID+"` shows the history.")
	case "revoked":
		fmt.Fprintf(w, "Request %s was revoked", r.ID)
		if last.Actor != "" {
			fmt.Fprintf(w, " by %s", shortPrincipal(last.Actor))
		}
		fmt.Fprintln(w, ".")
	case "expired":
		fmt.Fprintf(w, "Request %s has %s.\n", r.ID, a.statusLine(r))
	default:
		fmt.Fprintf(w, "Request %s is %s.\n", r.ID, r.Status)
	}
}

// lastEvent is the latest history event of a type (zero if none).
func lastEvent(r *request, typ string) access.Event {
	for i := len(r.History) - 1; i >= 0; i-- {
		if r.History[i].Type == typ {
			return r.History[i]
		}
	}
	return access.Event{}
}

// progress shows a wait: one redrawn line on a terminal, timestamped lines
// (on changes, and every 30s) otherwise.
type progress struct {
	a       *app
	tty     bool
	id      string
	start   time.Time
	last    *request
	logged  time.Time
	frame   int
	drawn   bool
	lastKey string
	// announced: the terminal got the line naming the request.
	announced bool
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (p *progress) update(r *request) {
	p.last = r
	key := string(r.Status) + "|" + strings.Join(r.Approvers, ",") + "|" + r.DecidedBy
	changed := key != p.lastKey
	p.lastKey = key
	if p.tty {
		if !p.announced {
			fmt.Fprintf(p.a.stderr, "Waiting for request %s (Ctrl-C stops waiting; the request stays open)\n", r.ID)
			p.announced = true
		}
		p.draw()
		return
	}
	now := p.a.now()
	if changed || now.Sub(p.logged) >= 30*time.Second {
		line := p.a.statusLine(r)
		if !changed {
			line = "still " + string(r.Status) + " after " + roundDuration(now.Sub(p.start))
		}
		fmt.Fprintf(p.a.stderr, "%s jit: request %s %s\n", now.UTC().Format(time.RFC3339), r.ID, line)
		p.logged = now
	}
}

func (p *progress) draw() {
	if p.last == nil {
		return
	}
	p.frame++
	line := fmt.Sprintf("%s %s  %s", spinner[p.frame%len(spinner)], roundDuration(p.a.now().Sub(p.start)), p.a.statusLine(p.last))
	width := p.a.width
	if n, err := strconv.Atoi(p.a.getenv("COLUMNS")); err == nil && n > 20 {
		width = n
	}
	if width <= 20 {
		width = 80
	}
	if r := []rune(line); len(r) > width-1 {
		line = string(r[:width-2]) + "…"
	}
	fmt.Fprintf(p.a.stderr, "\r\x1b[K%s", line)
	p.drawn = true
}

func (p *progress) note(msg string) {
	if p.tty {
		p.done()
	}
	fmt.Fprintf(p.a.stderr, "%s jit: %s\n", p.a.now().UTC().Format(time.RFC3339), msg)
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprint(p.a.stderr, "\r\x1b[K")
		p.drawn = false
	}
}

// sleep waits d, redrawing the terminal line meanwhile.
func (p *progress) sleep(ctx context.Context, d time.Duration) error {
	step := d
	if p.tty {
		step = 100 * time.Millisecond
	}
	end := time.Now().Add(d)
	for {
		left := time.Until(end)
		if left <= 0 {
			return nil
		}
		t := time.NewTimer(min(step, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if p.tty {
			p.draw()
		}
	}
}
