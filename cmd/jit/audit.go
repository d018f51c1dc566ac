package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

var auditCommand = &command{
	name: "audit", args: "search|export|open [filters] [flags]",
	summary: "search and export the audit trail, open the auditor page (auditors and admins)",
	about: `Read the audit trail: every event of every request (created, approved,
active, revoked, ...). For auditors and admins: the principals in
AuditorPrincipals and AdminPrincipals where jit is deployed.

  search    events, newest first, as a table (-o table, the default) or
            -o json: {"events": [...], "next_cursor", "from", "to"}
            (each event as the API gives it). --limit N events (default 50);
            --all follows every page to the end. When more events match,
            stderr shows the command that continues (--cursor).
  export    every matching event, all pages, into one file: --file FILE, or
            standard output. --format csv (default; one header row),
            json (one JSON array of events) or jsonl (one event per line).
            The number of events goes to stderr. A failed export leaves no
            --file behind (exit 1).
  open      create a single-use sign-in link to the auditor web page (valid
            5 minutes) and open it in your browser ($BROWSER, else the
            system's); --print only prints the link.

Filters (search and export; all given must match): --requester and --actor
take a principal exactly as events show it (an ARN, or an approver's email),
--resource a resource name, --action an event type (created, approved,
denied, active, expired, revoked, ...), --status the status a change reached.

Period: --since 24h (or 7d, 2w) counts back from now; or --from and --to, each
an RFC 3339 time or a date (YYYY-MM-DD, local time; --to DATE includes that
day). Default: the last 30 days. jit sends both ends, so a --cursor continues
only a search with the same filters, --from and --to.`,
	examples: `  jit audit search --since 24h
  jit audit search --resource sandbox-admin --action approved --all
  jit audit search --requester arn:aws:sts::123456789012:assumed-role/Engineer/alice@example.com -o json
  jit audit export --format csv --from 2026-11-01 --to 2026-11-30 -f november.csv
  jit audit export --format jsonl --resource prod-admin | jq -r .actor
  jit audit open`,
	setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string, []string) error {
		var f auditFilters
		f.register(fs)
		limit := fs.Int("limit", 0, "search: at most `N` events (1-200, default 50); with --all, events per page")
		all := fs.Bool("all", false, "search: follow every page to the end")
		cursor := fs.String("cursor", "", "search: continue from `CURSOR` (jit prints it when more events match)")
		format := fs.String("format", "csv", "export: `FORMAT` csv, json (one array) or jsonl (one event per line)")
		file := fs.String("file", "", "export: write to `FILE` (default standard output)")
		fs.StringVar(file, "f", "", "alias:file")
		printOnly := fs.Bool("print", false, "open: print the sign-in link instead of opening a browser")
		return func(ctx context.Context, pos, _ []string) error {
			if len(pos) == 0 {
				return usageErr("missing what to do: search, export or open")
			}
			if len(pos) > 1 {
				return usageErr("one action at a time; got %s", strings.Join(quoteAll(pos), " "))
			}
			action := pos[0]
			if action != "search" && action != "export" && action != "open" {
				return usageErr("no audit action %q: search, export or open", action)
			}
			set := map[string]bool{}
			fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
			only := map[string][]string{"limit": {"search"}, "all": {"search"}, "cursor": {"search"},
				"format": {"export"}, "file": {"export"}, "f": {"export"}, "print": {"open"}}
			for _, name := range auditFilterFlags {
				only[name] = []string{"search", "export"}
			}
			var names []string
			for name := range only {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				if set[name] && !slices.Contains(only[name], action) {
					return usageErr("--%s only applies to jit audit %s", name, strings.Join(only[name], " and "))
				}
			}
			switch action {
			case "search":
				if set["limit"] && *limit < 1 {
					return usageErr("--limit must be at least 1")
				}
				return a.auditSearch(ctx, &f, *limit, *all, *cursor)
			case "export":
				if a.json() && !set["format"] && *file == "" {
					*format = "json"
				}
				return a.auditExport(ctx, &f, *format, *file)
			}
			return a.auditOpen(ctx, *printOnly)
		}
	},
}

// auditFilterFlags are the flags that select events, named as the API's
// query parameters (action and status aside, they are the same).
var auditFilterFlags = []string{"requester", "actor", "resource", "action", "status", "since", "from", "to"}

// auditFilters are the flags search and export share.
type auditFilters struct {
	requester, actor, resource, action, status string
	period                                     periodFlags
}

func (f *auditFilters) register(fs *flag.FlagSet) {
	fs.StringVar(&f.requester, "requester", "", "events of requests made by `PRINCIPAL` (the requester's ARN)")
	fs.StringVar(&f.actor, "actor", "", "events done by `PRINCIPAL` (an ARN, an approver's email, or system)")
	fs.StringVar(&f.resource, "resource", "", "events of requests for `RESOURCE`")
	fs.StringVar(&f.action, "action", "", "events of `TYPE`: created, approved, denied, active, expired, revoked, ...")
	fs.StringVar(&f.status, "status", "", "changes that reached `STATUS`: "+strings.Join(statusNames(), ", "))
	f.period.register(fs, "30 days")
}

// query is the API's search parameters. from and to are always set, so
// that the search a cursor continues is the same one each time.
func (f *auditFilters) query(now time.Time, loc *time.Location) (url.Values, error) {
	q := url.Values{}
	for _, p := range []struct{ name, value string }{
		{"requester", f.requester}, {"actor", f.actor}, {"resource", f.resource}, {"action", f.action}, {"status", f.status},
	} {
		if v := strings.TrimSpace(p.value); v != "" {
			q.Set(p.name, v)
		}
	}
	if f.status != "" {
		st, err := parseStatuses(f.status)
		if err != nil {
			return nil, err
		}
		if len(st) != 1 {
			return nil, usageErr("--status takes one status, not %q", f.status)
		}
		for s := range st {
			q.Set("status", s)
		}
	}
	from, to, err := f.period.resolve(now, loc, auditDefaultPeriod)
	if err != nil {
		return nil, err
	}
	q.Set("from", from.Format(time.RFC3339))
	q.Set("to", to.Format(time.RFC3339))
	return q, nil
}

// auditDefaultPeriod is what the API searches when no start is given;
// jit names it so the period is explicit.
const auditDefaultPeriod = 30 * 24 * time.Hour

// periodFlags are --since, --from and --to.
type periodFlags struct{ since, from, to string }

func (p *periodFlags) register(fs *flag.FlagSet, def string) {
	fs.StringVar(&p.since, "since", "", "the last `DURATION`: 90m, 24h, 7d, 2w (default "+def+")")
	fs.StringVar(&p.from, "from", "", "from `TIME`: RFC 3339 (2026-11-01T09:00:00Z) or a date (2026-11-01)")
	fs.StringVar(&p.to, "to", "", "up to `TIME`: RFC 3339 or a date (that day included); default now")
}

func (p *periodFlags) given() bool { return p.since != "" || p.from != "" || p.to != "" }

// resolve turns the flags into a period in UTC, to the second. With no
// flag, the period is def back from now. to is rounded up so that what
// happened in the current second is in.
func (p *periodFlags) resolve(now time.Time, loc *time.Location, def time.Duration) (from, to time.Time, err error) {
	to = now.UTC().Truncate(time.Second).Add(time.Second)
	switch {
	case p.since != "" && p.from != "":
		return from, to, usageErr("--since and --from both say where the period starts; give one")
	case p.since != "" && p.to != "":
		return from, to, usageErr("--since counts back from now; use --from with --to")
	case p.since != "":
		d, err := parseSince(p.since)
		if err != nil {
			return from, to, err
		}
		return to.Add(-d), to, nil
	}
	if p.to != "" {
		if to, err = parseWhen("--to", p.to, loc, true); err != nil {
			return from, to, err
		}
	}
	from = to.Add(-def)
	if p.from != "" {
		if from, err = parseWhen("--from", p.from, loc, false); err != nil {
			return from, to, err
		}
	}
	if from.After(to) {
		return from, to, usageErr("--from %s is after --to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return from, to, nil
}

var sincePattern = regexp.MustCompile(`^(\d+)([dw])$`)

// parseSince reads a positive duration, with days (d) and weeks (w) too.
func parseSince(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if m := sincePattern.FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[1])
		if err == nil && n > 0 && n <= 10000 {
			days := n
			if m[2] == "w" {
				days *= 7
			}
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, usageErr("--since %q is not a duration like 90m, 24h, 7d or 2w", s)
}

// parseWhen reads an RFC 3339 time or a date in loc; a date as the end of
// a period (end) runs to the end of that day.
func parseWhen(name, s string, loc *time.Location, end bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if d, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d.UTC(), nil
	}
	return time.Time{}, usageErr("%s %q is neither a time like 2026-11-28T09:00:00Z nor a date like 2026-11-28", name, s)
}

// auditEvent is one audit event as the API shows it. Detail values are
// usually strings; others are shown as JSON.
type auditEvent struct {
	RequestID string         `json:"request_id"`
	Type      string         `json:"type"`
	Actor     string         `json:"actor"`
	At        time.Time      `json:"at"`
	Resource  string         `json:"resource"`
	Requester string         `json:"requester"`
	From      string         `json:"from"`
	To        string         `json:"to"`
	Detail    map[string]any `json:"detail"`
}

// auditPage is the API's answer to a search.
type auditPage struct {
	Events     []json.RawMessage `json:"events"`
	NextCursor string            `json:"next_cursor"`
	Index      string            `json:"index"`
	Queries    int               `json:"queries"`
	Scanned    int               `json:"scanned"`
}

// searchPageMax is the largest page the API serves.
const searchPageMax = 200

func (a *app) auditSearch(ctx context.Context, f *auditFilters, limit int, all bool, cursor string) error {
	q, err := f.query(a.now(), a.loc)
	if err != nil {
		return err
	}
	s, err := a.connect(ctx)
	if err != nil {
		return err
	}
	want := limit
	if want == 0 {
		want = 50
	}
	var raws []json.RawMessage
	var evs []auditEvent
	queries, scanned := 0, 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		page := url.Values{}
		for k, v := range q {
			page[k] = v
		}
		size := min(want-len(evs), searchPageMax)
		if all {
			size = min(firstPositive(limit, searchPageMax), searchPageMax)
		}
		page.Set("limit", strconv.Itoa(size))
		if cursor != "" {
			page.Set("cursor", cursor)
		}
		var p auditPage
		if _, err := s.api.getJSON(ctx, "/v1/audit", page, &p); err != nil {
			return err
		}
		queries += p.Queries
		scanned += p.Scanned
		for _, raw := range p.Events {
			var ev auditEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				return fmt.Errorf("GET /v1/audit: an event is not the JSON jit expects: %w", err)
			}
			raws, evs = append(raws, raw), append(evs, ev)
		}
		if p.NextCursor == cursor && cursor != "" {
			return fmt.Errorf("GET /v1/audit: the API returned the same cursor again; stopping")
		}
		cursor = p.NextCursor
		// A page can hold fewer events than asked (the API bounds the time
		// one page covers); the cursor carries on where it stopped.
		if cursor == "" || !all && len(evs) >= want {
			break
		}
	}
	if a.json() {
		doc := struct {
			Events     []json.RawMessage `json:"events"`
			NextCursor string            `json:"next_cursor,omitempty"`
			From       string            `json:"from"`
			To         string            `json:"to"`
			Queries    int               `json:"queries"`
			Scanned    int               `json:"scanned"`
		}{Events: raws, NextCursor: cursor, From: q.Get("from"), To: q.Get("to"), Queries: queries, Scanned: scanned}
		if doc.Events == nil {
			doc.Events = []json.RawMessage{}
		}
		if err := a.printJSON(doc); err != nil {
			return err
		}
	} else {
		a.printEvents(evs, q)
	}
	if cursor != "" {
		fmt.Fprintf(a.stderr, "jit: more events match; the next page:\n  %s\n  (or add --all for every page)\n", nextSearch(q, limit, cursor))
	}
	return nil
}

func firstPositive(n ...int) int {
	for _, v := range n {
		if v > 0 {
			return v
		}
	}
	return 0
}

// nextSearch is the command line that continues a search.
func nextSearch(q url.Values, limit int, cursor string) string {
	args := []string{"jit", "audit", "search"}
	for _, k := range []string{"requester", "actor", "resource", "action", "status", "from", "to"} {
		if v := q.Get(k); v != "" {
			args = append(args, "--"+k, argQuote(v))
		}
	}
	if limit > 0 {
		args = append(args, "--limit", strconv.Itoa(limit))
	}
	return strings.Join(append(args, "--cursor", argQuote(cursor)), " ")
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9._:/@+=,\-]+$`)

// argQuote quotes s for a shell only when it needs it.
func argQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return shellQuote(s)
}

// printEvents prints events for people, newest first as the API gave them.
func (a *app) printEvents(evs []auditEvent, q url.Values) {
	from, _ := time.Parse(time.RFC3339, q.Get("from"))
	to, _ := time.Parse(time.RFC3339, q.Get("to"))
	period := from.In(a.loc).Format("2006-01-02 15:04") + " and " + to.In(a.loc).Format("2006-01-02 15:04 MST")
	if len(evs) == 0 {
		fmt.Fprintf(a.stdout, "No audit events match between %s.\n", period)
		return
	}
	var rows [][]string
	for _, e := range evs {
		change := ""
		if e.From != "" || e.To != "" {
			change = e.From + "→" + e.To
		}
		rows = append(rows, []string{e.At.In(a.loc).Format("2006-01-02 15:04:05"), e.Type, shortPrincipal(e.Actor),
			e.Resource, e.RequestID, change, truncate(details(detailStrings(e.Detail)), 60)})
	}
	table(a.stdout, []string{"TIME", "EVENT", "ACTOR", "RESOURCE", "REQUEST", "STATUS", "DETAIL"}, rows)
	fmt.Fprintf(a.stdout, "%d event(s) between %s, newest first.\n", len(evs), period)
}

// detailStrings shows every detail value as text.
func detailStrings(m map[string]any) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
			continue
		}
		b, _ := json.Marshal(v)
		out[k] = string(b)
	}
	return out
}

func (a *app) auditExport(ctx context.Context, f *auditFilters, format, file string) error {
	switch format {
	case "csv", "json", "jsonl":
	default:
		return usageErr("--format must be csv, json or jsonl, not %q", format)
	}
	if a.json() && file == "" && format != "json" {
		return usageErr("--output json and --format %s disagree: the export itself goes to standard output; pick one, or write it with --file", format)
	}
	q, err := f.query(a.now(), a.loc)
	if err != nil {
		return err
	}
	s, err := a.connect(ctx)
	if err != nil {
		return err
	}
	out := io.Writer(a.stdout)
	var tmp *os.File
	if file != "" {
		// Written beside the file and renamed at the end, so a failed
		// export never leaves a file that looks complete.
		if tmp, err = os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*.partial"); err != nil {
			return &exitError{Code: exitFailure, Kind: "file", Message: err.Error()}
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		out = tmp
	}
	bw := bufio.NewWriter(out)
	cw := &countingWriter{w: bw}
	n, err := a.exportPages(ctx, s.api, q, format, cw)
	if ferr := bw.Flush(); err == nil && ferr != nil {
		err = &exitError{Code: exitFailure, Kind: "file", Message: ferr.Error()}
	}
	if err == nil && tmp != nil {
		if err = tmp.Close(); err == nil {
			err = os.Rename(tmp.Name(), file)
		}
		if err != nil {
			err = &exitError{Code: exitFailure, Kind: "file", Message: err.Error()}
		}
	}
	if err != nil {
		e := a.classify(err)
		switch {
		case file != "":
			e.Message = fmt.Sprintf("export failed, %s not written: %s", file, e.Message)
		case cw.n > 0:
			e.Message = fmt.Sprintf("export failed after %d event(s); the output is incomplete: %s", n, e.Message)
		}
		return e
	}
	where := firstNonEmpty(file, "standard output")
	period := q.Get("from") + " to " + q.Get("to")
	if a.json() && file != "" {
		return a.printJSON(map[string]any{"file": file, "format": format, "events": n, "from": q.Get("from"), "to": q.Get("to")})
	}
	fmt.Fprintf(a.stderr, "jit: exported %d event(s) from %s (%s) to %s\n", n, period, format, where)
	return nil
}

// exportPages writes every page of an export to w and returns the number
// of events written.
func (a *app) exportPages(ctx context.Context, c *client, q url.Values, format string, w io.Writer) (int, error) {
	n := 0
	cursor := ""
	var header []string
	apiFormat := format
	if format == "jsonl" {
		apiFormat = "json"
	}
	for page := 1; ; page++ {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		pq := url.Values{}
		for k, v := range q {
			pq[k] = v
		}
		pq.Set("format", apiFormat)
		if cursor != "" {
			pq.Set("cursor", cursor)
		}
		resp, err := c.do(ctx, http.MethodGet, "/v1/audit/export", pq, nil, nil)
		if err != nil {
			return n, err
		}
		if format == "json" && page == 1 {
			// Only once the first page is in: a refused export writes nothing.
			if _, err := io.WriteString(w, "["); err != nil {
				return n, &exitError{Code: exitFailure, Kind: "file", Message: err.Error()}
			}
		}
		switch format {
		case "csv":
			body, rows, hdr, err := csvPage(resp.Body, header)
			if err != nil {
				return n, fmt.Errorf("GET /v1/audit/export page %d: the answer is not CSV: %w", page, err)
			}
			if header == nil {
				header = hdr
			}
			if _, err := w.Write(body); err != nil {
				return n, &exitError{Code: exitFailure, Kind: "file", Message: err.Error()}
			}
			n += rows
		default:
			var p auditPage
			if err := json.Unmarshal(resp.Body, &p); err != nil {
				return n, fmt.Errorf("GET /v1/audit/export page %d: the answer is not the JSON jit expects: %w", page, err)
			}
			for _, raw := range p.Events {
				var line bytes.Buffer
				switch {
				case format == "json" && n > 0:
					line.WriteString(",\n")
				case format == "json":
					line.WriteString("\n")
				}
				if err := json.Compact(&line, raw); err != nil {
					return n, fmt.Errorf("GET /v1/audit/export page %d: %w", page, err)
				}
				if format == "jsonl" {
					line.WriteByte('\n')
				}
				if _, err := w.Write(line.Bytes()); err != nil {
					return n, &exitError{Code: exitFailure, Kind: "file", Message: err.Error()}
				}
				n++
			}
		}
		next := resp.Header.Get("Jit-Next-Cursor")
		c.logf("export page %d: %d event(s) so far", page, n)
		if next == "" {
			break
		}
		if next == cursor {
			return n, fmt.Errorf("GET /v1/audit/export: the API returned the same cursor again; stopping")
		}
		cursor = next
	}
	if format == "json" {
		end := "]\n"
		if n > 0 {
			end = "\n]\n"
		}
		if _, err := io.WriteString(w, end); err != nil {
			return n, &exitError{Code: exitFailure, Kind: "file", Message: err.Error()}
		}
	}
	return n, nil
}

// countingWriter counts what went through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// csvPage reads one CSV page: its bytes as they go into the file, the
// number of event rows, and its header row. The API puts the header row on
// the first page only; should a later page repeat it, it is left out, so
// the file has one.
func csvPage(body []byte, header []string) (out []byte, rows int, hdr []string, err error) {
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	first := true
	skip := int64(0)
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, nil, err
		}
		if first {
			first = false
			switch {
			case header == nil:
				// The first page: its first row is the header.
				hdr = rec
				continue
			case slices.Equal(rec, header):
				skip = r.InputOffset()
				continue
			}
		}
		rows++
	}
	if len(body) > 0 && body[len(body)-1] != '\n' {
		body = append(body, '\n')
	}
	return body[skip:], rows, hdr, nil
}

// auditSignIn is the API's answer to POST /v1/audit/sessions.
type auditSignIn struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (a *app) auditOpen(ctx context.Context, printOnly bool) error {
	s, err := a.connect(ctx)
	if err != nil {
		return err
	}
	resp, err := s.api.do(ctx, http.MethodPost, "/v1/audit/sessions", nil, nil, nil)
	if err != nil {
		return err
	}
	var link auditSignIn
	if err := json.Unmarshal(resp.Body, &link); err != nil || link.URL == "" {
		return fmt.Errorf("POST /v1/audit/sessions: the answer is not the sign-in link jit expects: %s", truncate(string(resp.Body), 200))
	}
	if err := openableSignIn(link.URL, s.api.base); err != nil {
		return fmt.Errorf("POST /v1/audit/sessions answered a sign-in link jit will not use: %w", err)
	}
	opened := false
	var openErr error
	if !printOnly {
		openErr = a.openURL(ctx, link.URL)
		opened = openErr == nil
	}
	until := a.timeText(link.ExpiresAt)
	switch {
	case a.json():
		doc, err := withFields(resp.Body, map[string]any{"opened": opened})
		if err != nil {
			return err
		}
		if openErr != nil {
			fmt.Fprintf(a.stderr, "jit: could not open a browser: %v\n", openErr)
		}
		return a.printJSON(doc)
	case printOnly:
		fmt.Fprintln(a.stdout, link.URL)
		fmt.Fprintf(a.stderr, "jit: the link signs you in to the auditor page once, until %s\n", until)
	case opened:
		fmt.Fprintf(a.stdout, "Opened the auditor page in your browser (the sign-in link works once, until %s).\n", until)
	default:
		fmt.Fprintf(a.stderr, "jit: could not open a browser: %v\n", openErr)
		fmt.Fprintf(a.stdout, "Open this link to sign in to the auditor page (it works once, until %s):\n%s\n", until, link.URL)
	}
	return nil
}

// openableSignIn checks a sign-in link before it is printed or handed to
// the system's opener: the server chose it, and an impersonated or
// compromised API must not make jit open another site, a file: or
// javascript: URL, or pass an option to the opener. It must be https on
// the API's own host and port or, when the API is the local cloud (http
// on a loopback address), http on a loopback address and the same port.
func openableSignIn(link string, api *url.URL) error {
	refuse := func(why string) error {
		return fmt.Errorf("%q %s; jit opens only links on the API's origin %s (if PublicBaseUrl gives the API another domain, use it as JIT_API_URL)", link, why, api.Scheme+"://"+api.Host)
	}
	if strings.IndexFunc(link, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return refuse("contains spaces or control characters")
	}
	u, err := url.Parse(link)
	if err != nil || u.Opaque != "" || u.User != nil || u.Host == "" {
		return refuse("is not an absolute http(s) URL")
	}
	switch {
	case u.Scheme == "https" && api.Scheme == "https" && strings.EqualFold(u.Host, api.Host):
		return nil
	case u.Scheme == "http" && api.Scheme == "http" && loopback(api.Hostname()) && loopback(u.Hostname()) && u.Port() == api.Port():
		return nil
	}
	return refuse("is on another origin")
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// openBrowser opens a URL with $BROWSER, else the system's opener. It
// waits for the opener (which returns at once for desktop browsers; a
// terminal browser runs until it is closed).
func openBrowser(getenv func(string) string, stdin io.Reader, stderr io.Writer) func(context.Context, string) error {
	return func(ctx context.Context, u string) error {
		var argv []string
		switch b := getenv("BROWSER"); {
		case b != "":
			// $BROWSER is a list of commands separated by colons; %s is
			// where the URL goes.
			argv = strings.Fields(strings.Split(b, ":")[0])
			if len(argv) == 0 {
				return errors.New("$BROWSER is empty")
			}
			if i := slices.IndexFunc(argv, func(s string) bool { return strings.Contains(s, "%s") }); i >= 0 {
				argv[i] = strings.ReplaceAll(argv[i], "%s", u)
			} else {
				argv = append(argv, u)
			}
		case runtime.GOOS == "darwin":
			argv = []string{"open", u}
		case runtime.GOOS == "windows":
			argv = []string{"rundll32", "url.dll,FileProtocolHandler", u}
		default:
			if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
				return errors.New("no graphical display (DISPLAY is not set; set BROWSER to use another browser)")
			}
			argv = []string{"xdg-open", u}
		}
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stderr, stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", argv[0], err)
		}
		return nil
	}
}
