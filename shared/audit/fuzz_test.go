package audit

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/store"
)

// FuzzParseQuery: whatever the query string, ParseQuery either refuses it
// with a ValidationError naming a parameter, or returns a search the store
// accepts: a forward period within the maximum, a limit in range, and
// filters of the allowed characters only.
func FuzzParseQuery(f *testing.F) {
	f.Add("requester", "arn:aws:sts::1:assumed-role/E/a@b.c", "from", "2026-11-01T00:00:00Z", "limit", "7")
	f.Add("action", "approved", "to", "2026-11-02T00:00:00+01:00", "status", "active")
	f.Add("cursor", "eyJiIjoiMjAyNi0xMSJ9", "limit", "0", "colour", "red")
	f.Add("from", "2026-11-03T00:00:00Z", "to", "2026-11-01T00:00:00Z", "resource", "db")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string) {
		params := map[string]string{k1: v1, k2: v2, k3: v3}
		q, err := ParseQuery(params, now, 50, 200)
		if err != nil {
			var ve *access.ValidationError
			if !errors.As(err, &ve) || ve.Field == "" || ve.Message == "" {
				t.Fatalf("%v: error %v is not a ValidationError naming a field", params, err)
			}
			return
		}
		if q.Limit < 1 || q.Limit > 200 {
			t.Fatalf("%v: limit %d", params, q.Limit)
		}
		if q.Cursor != "" && q.From.IsZero() && q.To.IsZero() {
			return // the store takes the period from the cursor
		}
		if q.To.Before(q.From) || q.To.Sub(q.From) > store.MaxAuditRange {
			t.Fatalf("%v: period %v .. %v", params, q.From, q.To)
		}
		if q.From.Location() != time.UTC || q.To.Location() != time.UTC {
			t.Fatalf("%v: period not in UTC", params)
		}
		for _, v := range []string{q.Requester, q.Actor, q.Resource, q.Type} {
			if strings.ContainsAny(v, " \t\n\"'<>&%") {
				t.Fatalf("%v: filter value %q passed", params, v)
			}
		}
		if q.Status != "" && !q.Status.Valid() {
			t.Fatalf("%v: status %q", params, q.Status)
		}
	})
}
