// Package audit turns audit searches into store queries and their results
// into exports: the query parameters both the API (GET /v1/audit) and the
// auditor page accept, and the CSV and JSON forms of events.
package audit

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/store"
)

// DefaultPeriod is searched when a search names no start.
const DefaultPeriod = 30 * 24 * time.Hour

// Params are the search parameters by name, as in a query string.
var Params = []string{"requester", "actor", "resource", "action", "status", "from", "to", "limit", "cursor"}

// valuePattern admits principals (ARNs), emails, resource names and event
// types, and nothing that could not be one.
var valuePattern = regexp.MustCompile(`^[A-Za-z0-9._:/@+=,#\-]{1,256}$`)

var actionPattern = regexp.MustCompile(`^[a-z_]{1,64}$`)

// ParseQuery reads a search from query parameters. limit is the page size
// when none is given, max the largest allowed; now ends the default
// period. Unknown parameters are refused, so a misspelt filter is not
// silently ignored.
func ParseQuery(params map[string]string, now time.Time, limit, max int) (store.AuditQuery, error) {
	q := store.AuditQuery{Limit: limit}
	known := map[string]bool{}
	for _, p := range Params {
		known[p] = true
	}
	var names []string
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !known[k] && k != "format" {
			return q, UnknownParam(k, Params)
		}
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"requester", &q.Requester}, {"actor", &q.Actor}, {"resource", &q.Resource}} {
		v, ok := params[f.name]
		if !ok {
			continue
		}
		if !valuePattern.MatchString(v) {
			return q, access.Invalid(f.name, "must be 1 to 256 characters of letters, digits and . _ : / @ + = , # -")
		}
		*f.dst = v
	}
	if v, ok := params["action"]; ok {
		if !actionPattern.MatchString(v) {
			return q, access.Invalid("action", "must be an event type such as created, approved, active, revoked")
		}
		q.Type = v
	}
	if v, ok := params["status"]; ok {
		if !access.Status(v).Valid() {
			return q, access.Invalid("status", "must be one of %s", strings.Join(statusNames(), ", "))
		}
		q.Status = access.Status(v)
	}
	_, hasFrom := params["from"]
	_, hasTo := params["to"]
	if params["cursor"] != "" && !hasFrom && !hasTo {
		// The cursor carries its search's period.
		q.Cursor = params["cursor"]
		return q, parseLimit(&q, params, max)
	}
	q.To = now.UTC()
	if v, ok := params["to"]; ok {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return q, access.Invalid("to", "must be an RFC 3339 time such as 2026-11-28T09:00:00Z")
		}
		q.To = t.UTC()
	}
	q.From = q.To.Add(-DefaultPeriod)
	if v, ok := params["from"]; ok {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return q, access.Invalid("from", "must be an RFC 3339 time such as 2026-11-01T00:00:00Z")
		}
		q.From = t.UTC()
	}
	if q.To.Before(q.From) {
		return q, access.Invalid("from", "must not be after to")
	}
	if q.To.Sub(q.From) > store.MaxAuditRange {
		return q, access.Invalid("from", "the period may span at most %d days; search in parts", int(store.MaxAuditRange.Hours()/24))
	}
	q.Cursor = params["cursor"]
	return q, parseLimit(&q, params, max)
}

func parseLimit(q *store.AuditQuery, params map[string]string, max int) error {
	if v, ok := params["limit"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > max {
			return access.Invalid("limit", "must be a whole number from 1 to %d", max)
		}
		q.Limit = n
	}
	return nil
}

// UnknownParam refuses a query parameter that is not one of known, naming
// it (a parameter without a name is named "query").
func UnknownParam(name string, known []string) error {
	field := name
	if field == "" {
		field = "query"
	}
	return access.Invalid(field, "%q is not a parameter here (use %s)", name, strings.Join(known, ", "))
}

func statusNames() []string {
	var out []string
	for _, s := range access.Statuses() {
		out = append(out, string(s))
	}
	return out
}

// Columns are the CSV export's columns, in order.
var Columns = []string{"at", "request_id", "type", "actor", "requester", "resource", "from", "to", "source_ip", "user_agent", "detail"}

// WriteCSV writes events as CSV rows, with the header row when header is
// true. Detail is one JSON object per row, its keys sorted.
func WriteCSV(w io.Writer, evs []access.Event, header bool) error {
	cw := csv.NewWriter(w)
	if header {
		if err := cw.Write(Columns); err != nil {
			return err
		}
	}
	for _, ev := range evs {
		detail := ""
		if len(ev.Detail) > 0 {
			b, err := json.Marshal(ev.Detail)
			if err != nil {
				return fmt.Errorf("encode detail: %w", err)
			}
			detail = string(b)
		}
		row := []string{ev.At.UTC().Format(time.RFC3339Nano), ev.RequestID, ev.Type, ev.Actor, ev.Requester, ev.Resource,
			string(ev.From), string(ev.To), ev.SourceIP, ev.UserAgent, detail}
		for i, cell := range row {
			row[i] = defuse(cell)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// defuse keeps a spreadsheet from reading a cell as a formula: text that
// starts with = + - @ (or a tab or carriage return) gets a leading quote.
// Reasons and comments are user input.
func defuse(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}
