package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/jitaccess/jit/shared/access"
)

var validID = access.ValidID

var statusCommand = &command{
	name: "status", args: "<request-id>",
	summary: "show a request, where it is, and its history",
	about: `Show one of your requests: status, resource and role, approvers, times, and
its full history (every audit event). -o json prints the API's JSON as is.
Exits 0 whatever the status is; use jit wait to branch on the outcome.`,
	examples: `  jit status 01jb2k3m4n5p6q7r8s9t0vwxyz
  jit status 01jb2k3m4n5p6q7r8s9t0vwxyz -o json | jq -r .status`,
	setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string, []string) error {
		return func(ctx context.Context, pos, _ []string) error {
			id, err := requestID(pos)
			if err != nil {
				return err
			}
			s, err := a.connect(ctx)
			if err != nil {
				return err
			}
			r, err := s.api.getRequest(ctx, id)
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(json.RawMessage(r.raw))
			}
			a.printRequest(a.stdout, r)
			return nil
		}
	},
}

var listCommand = &command{
	name: "list", args: "[--status S[,S...]] [--limit N]",
	summary: "list your requests, newest first",
	about: `List the requests you made with these credentials, newest first. jit follows
the API's pages until it has --limit requests. --status keeps only requests in
those statuses (filtered by jit until the API filters). -o json prints
{"requests": [...], "next_cursor": "..."}; pass next_cursor to --cursor to
continue.`,
	examples: `  jit list
  jit list --status active
  jit list --status pending,approved --limit 50 -o json`,
	setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string, []string) error {
		statuses := fs.String("status", "", "only these `STATUSES`, comma-separated: "+strings.Join(statusNames(), ", "))
		limit := fs.Int("limit", 20, "show at most `N` requests")
		cursor := fs.String("cursor", "", "continue from the next_cursor `CURSOR` an earlier jit list -o json printed")
		return func(ctx context.Context, pos, _ []string) error {
			if len(pos) > 0 {
				return usageErr("takes no arguments; got %s", strings.Join(quoteAll(pos), " "))
			}
			if *limit < 1 {
				return usageErr("--limit must be at least 1")
			}
			want, err := parseStatuses(*statuses)
			if err != nil {
				return err
			}
			s, err := a.connect(ctx)
			if err != nil {
				return err
			}
			rows, next, more, err := a.list(ctx, s.api, want, *limit, *cursor)
			if err != nil {
				return err
			}
			if a.json() {
				doc := struct {
					Requests   []json.RawMessage `json:"requests"`
					NextCursor string            `json:"next_cursor,omitempty"`
				}{Requests: make([]json.RawMessage, 0, len(rows)), NextCursor: next}
				for _, r := range rows {
					doc.Requests = append(doc.Requests, r.raw)
				}
				return a.printJSON(doc)
			}
			a.printList(rows, more, *statuses)
			return nil
		}
	},
}

func statusNames() []string {
	var out []string
	for _, s := range access.Statuses() {
		out = append(out, string(s))
	}
	return out
}

func parseStatuses(s string) (map[string]bool, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	want := map[string]bool{}
	for _, v := range strings.Split(s, ",") {
		v = strings.TrimSpace(strings.ToLower(v))
		if v == "timed-out" {
			v = "timed_out"
		}
		if !access.Status(v).Valid() {
			return nil, usageErr("--status %q is not a status; one of %s", v, strings.Join(statusNames(), ", "))
		}
		want[v] = true
	}
	return want, nil
}

// list reads pages until it has limit requests matching want (all if
// want is nil) or there are no more. more reports whether there may be
// more; next is the cursor to continue from when the last page was used up.
func (a *app) list(ctx context.Context, c *client, want map[string]bool, limit int, cursor string) (rows []*request, next string, more bool, err error) {
	var out []*request
	for {
		if err := ctx.Err(); err != nil {
			return nil, "", false, err
		}
		q := url.Values{}
		page := limit - len(out)
		if want != nil {
			page = 100
		}
		q.Set("limit", strconv.Itoa(max(1, min(page, 100))))
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var body struct {
			Requests   []json.RawMessage `json:"requests"`
			NextCursor string            `json:"next_cursor"`
		}
		if _, err := c.getJSON(ctx, "/v1/requests", q, &body); err != nil {
			return nil, "", false, err
		}
		for i, raw := range body.Requests {
			var r request
			if err := json.Unmarshal(raw, &r); err != nil {
				return nil, "", false, fmt.Errorf("GET /v1/requests: a request is not the JSON jit expects: %w", err)
			}
			r.raw = raw
			if want != nil && !want[string(r.Status)] {
				continue
			}
			out = append(out, &r)
			if len(out) == limit {
				// The API's cursor points past its page, so only a page used
				// up to its end can be continued from.
				if i == len(body.Requests)-1 {
					return out, body.NextCursor, body.NextCursor != "", nil
				}
				return out, "", true, nil
			}
		}
		if body.NextCursor == "" {
			return out, "", false, nil
		}
		cursor = body.NextCursor
	}
}

func (a *app) printList(rows []*request, more bool, statuses string) {
	if len(rows) == 0 {
		if statuses != "" {
			fmt.Fprintf(a.stdout, "No requests with status %s.\n", statuses)
		} else {
			fmt.Fprintln(a.stdout, "No requests yet. Ask with: jit request <resource> --reason \"...\"")
		}
		return
	}
	var out [][]string
	for _, r := range rows {
		until := ""
		switch {
		case r.Status == "active" && r.ExpiresAt != nil:
			until = "ends " + a.relative(*r.ExpiresAt)
		case r.EndedAt != nil:
			until = "ended " + a.relative(*r.EndedAt)
		}
		out = append(out, []string{r.ID, string(r.Status), r.Resource, r.Duration, a.relative(r.CreatedAt), until, truncate(r.Reason, 40)})
	}
	table(a.stdout, []string{"ID", "STATUS", "RESOURCE", "DURATION", "CREATED", "ACCESS", "REASON"}, out)
	if more {
		fmt.Fprintln(a.stdout, "(more: raise --limit, or continue with --cursor from -o json)")
	}
}
