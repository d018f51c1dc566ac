package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jitaccess/jit/shared/access"
)

var cancelCommand = &command{
	name: "cancel", args: "<request-id>",
	summary: "withdraw a request that is not granted yet",
	about: `Cancel one of your requests while it is pending or approved but not yet
granted: the workflow stops, approvers' links stop working, and no access is
given. A request that is already active cannot be cancelled (its access ends
at expires_at). Anyone waiting on it (jit wait, --wait) exits 5.`,
	examples: `  jit cancel 01jb2k3m4n5p6q7r8s9t0vwxyz
  jit cancel 01jb2k3m4n5p6q7r8s9t0vwxyz -o json | jq -r .status`,
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
			resp, err := s.api.do(ctx, http.MethodPost, "/v1/requests/"+url.PathEscape(id)+"/cancel", nil, nil, nil)
			var ae *apiError
			if errors.As(err, &ae) && ae.Status == http.StatusConflict {
				return &exitError{Code: exitFailure, Kind: "conflict", HTTPStatus: ae.Status, Message: ae.Message,
					Hint: fmt.Sprintf("only pending or not yet granted requests can be cancelled; `jit status %s` shows where it is", id)}
			}
			if err != nil {
				return err
			}
			var r request
			if err := json.Unmarshal(resp.Body, &r); err != nil {
				return fmt.Errorf("POST /v1/requests/%s/cancel: the answer is not the request jit expects: %w", id, err)
			}
			if a.json() {
				return a.printJSON(json.RawMessage(resp.Body))
			}
			fmt.Fprintf(a.stdout, "Cancelled request %s (%s): approvers' links no longer work and no access will be given.\n", r.ID, r.Resource)
			return nil
		}
	},
}

var revokeCommand = &command{
	name: "revoke", args: "<request-id> [--no-wait] [--timeout D]",
	summary: "end active access now (requester, approver or admin)",
	about: `End the access of an active request before its window ends: the grant is
removed and sessions already issued are denied. Its requester, one of its
approvers, or an admin may revoke it.

jit waits (up to --timeout, default 1m) until the request is revoked and
exits 0; 1 if the revoke could not complete (see jit status), 7 if --timeout
passes. --no-wait returns once the API has accepted the revoke. Only the
requester can read a request, so for anyone else jit reports the revoke as
accepted without waiting. A request not granted yet is cancelled instead
(jit cancel).`,
	examples: `  jit revoke 01jb2k3m4n5p6q7r8s9t0vwxyz
  jit revoke 01jb2k3m4n5p6q7r8s9t0vwxyz --no-wait -o json`,
	setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string, []string) error {
		noWait := fs.Bool("no-wait", false, "return once the revoke is accepted, without waiting for it")
		timeout := fs.Duration("timeout", time.Minute, "give up waiting after this `DURATION` (exit 7)")
		return func(ctx context.Context, pos, _ []string) error {
			id, err := requestID(pos)
			if err != nil {
				return err
			}
			if *timeout <= 0 {
				return usageErr("--timeout must be positive, e.g. 1m")
			}
			s, err := a.connect(ctx)
			if err != nil {
				return err
			}
			path := "/v1/requests/" + url.PathEscape(id) + "/revoke"
			var resp *response
			// busy means the grant is still being applied or another change
			// is under way: a revoke is safe to send again.
			for i, backoff := 0, 500*time.Millisecond; ; i, backoff = i+1, backoff*2 {
				resp, err = s.api.do(ctx, http.MethodPost, path, nil, nil, nil)
				var ae *apiError
				if !errors.As(err, &ae) || ae.Code != "busy" || i == 4 {
					break
				}
				s.api.logf("%s; retrying in %s", ae.Message, backoff)
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(backoff):
				}
			}
			var ae *apiError
			if errors.As(err, &ae) && ae.Status == http.StatusConflict {
				e := a.describeAPIError(ae)
				e.Hint = fmt.Sprintf("`jit status %s` shows where it is", id)
				if strings.Contains(ae.Message, "cancel it instead") {
					e.Hint = fmt.Sprintf("it is not granted yet: `jit cancel %s` withdraws it", id)
				}
				return e
			}
			if err != nil {
				return err
			}
			if *noWait {
				if a.json() {
					return a.printJSON(json.RawMessage(resp.Body))
				}
				fmt.Fprintf(a.stdout, "Revoking request %s: access is removed within seconds (`jit status %s` shows it).\n", id, id)
				return nil
			}
			r, err := s.api.getRequest(ctx, id)
			var nf *apiError
			if errors.As(err, &nf) && nf.Status == http.StatusNotFound {
				// Approvers and admins may revoke but not read the request.
				if a.json() {
					return a.printJSON(json.RawMessage(resp.Body))
				}
				fmt.Fprintf(a.stdout, "Revoke of request %s accepted: access is removed within seconds.\n(Only its requester can read the request, so jit cannot confirm it.)\n", id)
				return nil
			}
			if err != nil {
				return err
			}
			// A revoke is safe to repeat, and one sent while the grant is
			// being changed (just after an extend) can be lost: send it again
			// every few seconds while access lasts.
			sent := time.Now()
			last, werr := a.pollUntil(ctx, s.api, r, *timeout, func(st string) bool {
				if st == "active" && time.Since(sent) > resendRevoke {
					sent = time.Now()
					if _, err := s.api.do(ctx, http.MethodPost, path, nil, nil, nil); err != nil {
						s.api.logf("revoke sent again: %v", err)
					} else {
						s.api.logf("still active: revoke sent again")
					}
				}
				return st != "active"
			})
			if werr != nil && !errors.Is(werr, errDeadline) {
				return werr
			}
			code := exitOK
			switch {
			case werr != nil:
				code = exitDeadline
			case last.Status == "failed":
				code = exitFailure
			}
			if a.json() {
				if err := a.printJSON(json.RawMessage(last.raw)); err != nil {
					return err
				}
			} else {
				switch {
				case werr != nil:
					fmt.Fprintf(a.stdout, "Revoke of request %s accepted, but it is still %s after %s; `jit status %s` shows when it ends.\n", id, last.Status, roundDuration(*timeout), id)
				case last.Status == "failed":
					until := "it expires"
					if last.ExpiresAt != nil {
						until = a.timeText(*last.ExpiresAt)
					}
					fmt.Fprintf(a.stdout, "Revoking request %s failed: access may remain until %s. `jit status %s` shows why; tell a jit admin.\n", id, until, id)
				default:
					fmt.Fprintf(a.stdout, "Request %s is %s: its access has ended, and sessions already issued are denied.\n", id, last.Status)
				}
			}
			if code != exitOK {
				return outcome(code)
			}
			return nil
		}
	},
}

var extendCommand = &command{
	name: "extend", args: "<request-id> --by DURATION",
	summary: "lengthen active access (approver or admin; requester within auto-approve rules)",
	about: `Move the end of an active request's access later by --by, within the
resource's max_duration. An approver of the request or an admin may extend
it; its requester may when the policy's auto-approve rules would approve the
new total (otherwise exit 1: ask an approver to run it).`,
	examples: `  jit extend 01jb2k3m4n5p6q7r8s9t0vwxyz --by 30m
  jit extend 01jb2k3m4n5p6q7r8s9t0vwxyz --by 15m -o json | jq -r .expires_at`,
	setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string, []string) error {
		by := fs.String("by", "", "how much longer: a `DURATION` like 30m (required)")
		return func(ctx context.Context, pos, _ []string) error {
			id, err := requestID(pos)
			if err != nil {
				return err
			}
			if *by == "" {
				return usageErr("--by is required, e.g. --by 30m")
			}
			if _, err := access.ParseDuration(*by); err != nil {
				return usageErr("--by %s", err.Error())
			}
			s, err := a.connect(ctx)
			if err != nil {
				return err
			}
			resp, err := s.api.do(ctx, http.MethodPost, "/v1/requests/"+url.PathEscape(id)+"/extend", nil, map[string]string{"by": *by}, nil)
			var ae *apiError
			switch {
			case errors.As(err, &ae) && ae.Code == "needs_approval":
				e := a.describeAPIError(ae)
				e.Hint = fmt.Sprintf("ask an approver of the resource to run: jit extend %s --by %s", id, *by)
				return e
			case errors.As(err, &ae) && ae.Code == "busy":
				e := a.describeAPIError(ae)
				e.Hint = fmt.Sprintf("check `jit status %s` first: the new end may already be recorded, and running extend again would add --by again", id)
				return e
			case errors.As(err, &ae) && ae.Status == http.StatusConflict:
				e := a.describeAPIError(ae)
				e.Hint = fmt.Sprintf("only active access can be extended; `jit status %s` shows where it is", id)
				return e
			case err != nil:
				return err
			}
			var r request
			if err := json.Unmarshal(resp.Body, &r); err != nil {
				return fmt.Errorf("POST /v1/requests/%s/extend: the answer is not the request jit expects: %w", id, err)
			}
			if a.json() {
				return a.printJSON(json.RawMessage(resp.Body))
			}
			fmt.Fprintf(a.stdout, "Extended request %s by %s: access now ends %s (%s in all).\n", id, *by, a.timeText(derefTime(r.ExpiresAt)), r.Duration)
			return nil
		}
	},
}

// resendRevoke is how long a revoke may go unseen before it is sent again.
var resendRevoke = 5 * time.Second

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
