package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/jitaccess/jit/shared/access"
)

var requestCommand = &command{
	name: "request", args: "<resource> --reason TEXT [--duration D] [--wait] [flags]",
	summary: "ask for access to a resource; --wait blocks until it is granted or refused",
	about: `Ask for temporary access to <resource> (a resource name from the jit policy,
e.g. sandbox-admin). Prints the request id and who must approve it; each
approver gets an email with a one-tap link.

Every call carries an Idempotency-Key, so running the same command again (a
retried CI step) answers with the request the first run made instead of
creating a second one. The key is --idempotency-key, else $JIT_IDEMPOTENCY_KEY,
else derived from the CI run (GitHub Actions: GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT,
GITHUB_JOB and the resource; GitLab: CI_PIPELINE_ID, CI_JOB_ID and the
resource), else random. -v and -o json show it.

Some resources approve short requests on the spot (auto-approve rules), take
--break-glass (approved at once, approvers notified), require a --ticket, or
allow a later --start-at (the request waits approved until then).

With --wait, jit polls until the request is active (exit 0) or ends without
access (denied 3, timed_out 4, cancelled 5, failed/revoked/expired 6), or
--timeout passes (7). Progress goes to stderr: one live line on a terminal,
timestamped lines otherwise (CI logs).`,
	examples: `  jit request sandbox-admin --duration 30m --reason "fix the broken deploy"
  jit request prod-readonly --duration 1h --reason "restart workers" --ticket INC-42 --wait
  jit request sandbox-admin --duration 2h --reason "maintenance window" --start-at 2026-01-02T22:00:00Z
  jit request prod-admin --duration 30m --reason "outage: db failover" --break-glass --wait
  ID=$(jit request sandbox-admin --reason "rotate keys" --quiet)
  jit request prod-readonly --reason "deploy ${GITHUB_SHA}" --wait --timeout 20m -o json`,
	setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string, []string) error {
		var o requestOptions
		fs.StringVar(&o.duration, "duration", "", "how long the access lasts once granted (`DURATION` like 90s, 15m, 1h30m; default: the resource's default)")
		fs.StringVar(&o.reason, "reason", "", "why you need access, in `TEXT` approvers read (required; quote it)")
		fs.BoolVar(&o.wait, "wait", false, "wait until the request is active or ends; exit code tells the outcome")
		fs.DurationVar(&o.timeout, "timeout", time.Hour, "with --wait: give up waiting after this `DURATION` (exit 7); the request stays open")
		fs.StringVar(&o.idemKey, "idempotency-key", "", "Idempotency-Key for the create (`KEY`: 1-128 of A-Z a-z 0-9 . _ : -); default $JIT_IDEMPOTENCY_KEY, CI run, or random")
		fs.BoolVar(&o.quiet, "quiet", false, "print only the request id")
		fs.BoolVar(&o.quiet, "q", false, "alias:quiet")
		fs.StringVar(&o.ticket, "ticket", "", "`TICKET` reference, e.g. INC-42 (required by some resources; checked against their pattern)")
		fs.StringVar(&o.startAt, "start-at", "", "start later, at `TIME`: RFC 3339 (2026-01-02T15:00:00Z) or a delay (30m, 2h); for resources that allow it")
		fs.BoolVar(&o.breakGlass, "break-glass", false, "emergency access now, approved on the spot, approvers notified; for resources that allow it")
		return func(ctx context.Context, pos, _ []string) error {
			o.set = map[string]bool{}
			fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
			return a.request(ctx, &o, pos)
		}
	},
}

type requestOptions struct {
	duration, reason, idemKey, ticket, startAt string
	wait, quiet, breakGlass                    bool
	timeout                                    time.Duration
	set                                        map[string]bool
}

// validate checks everything that can be checked before calling the API.
func (o *requestOptions) validate(a *app, pos []string) (string, error) {
	switch {
	case len(pos) == 0:
		return "", usageErr("missing <resource>, e.g. jit request sandbox-admin --duration 30m --reason \"...\"")
	case len(pos) > 1:
		return "", &exitError{Code: exitUsage, Kind: "usage", Message: fmt.Sprintf("one resource at a time; got %s", strings.Join(quoteAll(pos), " ")),
			Hint: "quote a reason with spaces: --reason \"fix the deploy\""}
	}
	if strings.TrimSpace(o.reason) == "" {
		return "", usageErr("--reason is required: say why you need access (approvers read it)")
	}
	if o.duration != "" {
		if _, err := access.ParseDuration(o.duration); err != nil {
			return "", usageErr("--duration %s", err.Error())
		}
	}
	if o.startAt != "" {
		t, err := parseStartAt(o.startAt, a.now())
		if err != nil {
			return "", err
		}
		o.startAt = t
	}
	if o.set["timeout"] && !o.wait {
		return "", usageErr("--timeout only applies with --wait")
	}
	if o.wait && o.timeout <= 0 {
		return "", usageErr("--timeout must be positive, e.g. 30m")
	}
	if o.quiet && a.json() {
		return "", usageErr("--quiet and --output json do not go together")
	}
	return pos[0], nil
}

// createBody is what POST /v1/requests takes. Options left out are not
// sent, so an API that does not know them yet still takes the rest.
type createBody struct {
	Resource   string `json:"resource"`
	Duration   string `json:"duration,omitempty"`
	Reason     string `json:"reason"`
	Ticket     string `json:"ticket,omitempty"`
	StartAt    string `json:"start_at,omitempty"`
	BreakGlass bool   `json:"break_glass,omitempty"`
}

// parseStartAt reads --start-at: an RFC 3339 time, or a duration from now
// ("30m", "+2h"). The API takes RFC 3339.
func parseStartAt(s string, now time.Time) (string, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC().Format(time.RFC3339), nil
	}
	if d, err := time.ParseDuration(strings.TrimPrefix(s, "+")); err == nil && d > 0 {
		return now.Add(d).UTC().Truncate(time.Second).Format(time.RFC3339), nil
	}
	return "", usageErr("--start-at %q is neither a time like 2026-01-02T15:04:05Z nor a delay like 30m or 2h", s)
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

func (a *app) request(ctx context.Context, o *requestOptions, pos []string) error {
	resource, err := o.validate(a, pos)
	if err != nil {
		return err
	}
	key, source, err := idempotencyKey(o.idemKey, a.getenv, resource, rand.Reader)
	if err != nil {
		return err
	}
	s, err := a.connect(ctx)
	if err != nil {
		return err
	}
	s.api.logf("idempotency key %s (from %s)", key, source)
	body := createBody{Resource: resource, Duration: o.duration, Reason: strings.TrimSpace(o.reason),
		Ticket: strings.TrimSpace(o.ticket), StartAt: o.startAt, BreakGlass: o.breakGlass}
	resp, err := s.api.do(ctx, http.MethodPost, "/v1/requests", nil, body, map[string]string{"Idempotency-Key": key})
	if err != nil {
		return err
	}
	var r request
	if err := json.Unmarshal(resp.Body, &r); err != nil || r.ID == "" {
		return fmt.Errorf("POST /v1/requests: the answer is not the request jit expects: %s", truncate(string(resp.Body), 200))
	}
	r.raw = resp.Body
	replayed := resp.Header.Get("Idempotent-Replayed") == "true"
	extra := map[string]any{"idempotency_key": key, "replayed": replayed}
	if !o.wait {
		switch {
		case a.json():
			return a.printCreated(&r, extra)
		case o.quiet:
			fmt.Fprintln(a.stdout, r.ID)
			return nil
		}
		a.printRequested(a.stdout, &r, replayed)
		if s := nextStep(&r); s != "" {
			fmt.Fprintf(a.stdout, "\n%s\n", s)
		}
		if replayed && final(string(r.Status)) && r.Status != "active" {
			fmt.Fprintf(a.stderr, "jit request: note: the request this idempotency key made is %s; to ask again, use a new --idempotency-key\n", r.Status)
		}
		return nil
	}
	if replayed {
		fmt.Fprintf(a.stderr, "jit: request %s already exists for idempotency key %s (a retry): waiting for it\n", r.ID, key)
	}
	start := a.now()
	last, werr := a.waitFor(ctx, s.api, &r, o.timeout)
	if last == nil {
		return werr
	}
	if werr == nil && last.Status != "active" && !strings.HasPrefix(source, "random") {
		defer fmt.Fprintf(a.stderr, "jit request: note: running this again with idempotency key %s answers with this same %s request;\n  to ask again, use a new --idempotency-key (a re-run of the CI job gets a new one)\n", key, last.Status)
	}
	return a.finish(last, extra, werr, o.quiet, a.now().Sub(start))
}

func (a *app) printCreated(r *request, extra map[string]any) error {
	doc, err := withFields(r.raw, extra)
	if err != nil {
		return err
	}
	return a.printJSON(doc)
}

// printRequested is the answer to a create, for people.
func (a *app) printRequested(w io.Writer, r *request, replayed bool) {
	if replayed {
		fmt.Fprintf(w, "Request %s already exists for this idempotency key (a retry); nothing new was created.\n", r.ID)
	} else {
		fmt.Fprintf(w, "Requested %s for %s: request %s\n", r.Resource, r.Duration, r.ID)
	}
	fmt.Fprintf(w, "Status:    %s\n", a.statusLine(r))
	if r.Status == "pending" && len(r.Approvers) > 0 {
		fmt.Fprintf(w, "Approvers: %s (each got an email with a link)\n", strings.Join(r.Approvers, ", "))
	}
	if r.Ticket != "" {
		fmt.Fprintf(w, "Ticket:    %s\n", strings.TrimSpace(r.Ticket+"  "+r.TicketURL))
	}
	if r.BreakGlass {
		fmt.Fprintf(w, "Break-glass: approved on the spot; approvers are notified and the use is audited.\n")
	}
}

// idempotencyPattern is what the API accepts as an Idempotency-Key.
var idempotencyPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

var keyUnsafe = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// idempotencyKey picks the Idempotency-Key of a create and says where it
// came from: the flag, JIT_IDEMPOTENCY_KEY, the CI run (so a retried step
// finds the request the first attempt made), or random.
func idempotencyKey(explicit string, getenv func(string) string, resource string, random io.Reader) (key, source string, err error) {
	for _, c := range []struct{ v, from string }{{explicit, "--idempotency-key"}, {getenv("JIT_IDEMPOTENCY_KEY"), "JIT_IDEMPOTENCY_KEY"}} {
		if c.v == "" {
			continue
		}
		if !idempotencyPattern.MatchString(c.v) {
			return "", "", usageErr("%s %q must be 1 to 128 letters, digits or . _ : -", c.from, c.v)
		}
		return c.v, c.from, nil
	}
	if run := getenv("GITHUB_RUN_ID"); run != "" {
		return ciKey("gh", run, firstNonEmpty(getenv("GITHUB_RUN_ATTEMPT"), "1"), getenv("GITHUB_JOB"), resource),
			"GitHub Actions run (GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_JOB, resource)", nil
	}
	if job := getenv("CI_JOB_ID"); job != "" && getenv("GITLAB_CI") != "" {
		// A retried GitLab job gets a new CI_JOB_ID, as a re-run GitHub job
		// gets a new GITHUB_RUN_ATTEMPT.
		return ciKey("gl", getenv("CI_PIPELINE_ID"), job, resource),
			"GitLab CI job (CI_PIPELINE_ID, CI_JOB_ID, resource)", nil
	}
	var b [16]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", "", fmt.Errorf("random idempotency key: %w", err)
	}
	return "cli-" + hex.EncodeToString(b[:]), "random: no --idempotency-key, JIT_IDEMPOTENCY_KEY or CI run", nil
}

// ciKey joins parts into a valid key; one too long becomes a hash.
func ciKey(prefix string, parts ...string) string {
	clean := make([]string, 0, len(parts)+1)
	clean = append(clean, prefix)
	for _, p := range parts {
		clean = append(clean, strings.Trim(keyUnsafe.ReplaceAllString(p, "-"), "-"))
	}
	key := strings.Join(clean, ":")
	if len(key) > 128 {
		sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
		key = prefix + ":" + hex.EncodeToString(sum[:])
	}
	return key
}
