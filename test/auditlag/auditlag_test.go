// Package auditlag measures audit lag on a large trail, the way an
// auditor meets it: (a) how soon an event the functions record can be
// found by audit search, (b) how soon an ended request is in the
// compliance export, and (c) how long the standard audit questions take
// through the API, with the reads each needs. `make bench` runs it with
// -out and writes bench/audit-lag.json and bench/AUDIT-LAG.md; `go test
// ./...` skips it (it needs a few minutes and ~100,000 events).
package auditlag

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/local/cloud"
	"github.com/jitaccess/jit/shared/local/provision"
	"github.com/jitaccess/jit/shared/local/trail"
	"github.com/jitaccess/jit/shared/store"
)

var (
	outDir   = flag.String("out", "", "directory to write audit-lag.json and AUDIT-LAG.md into (relative to test/auditlag); empty skips the benchmark")
	requests = flag.Int("trail", 200, "requests in the synthetic trail of the last 90 days (about 9 events each)")
	older    = flag.Int("older", 400, "requests in the older trail (91 to 270 days ago) added before the second round of questions")
	runs     = flag.Int("runs", 3, "runs of each standard question per table size")
	fresh    = flag.Int("fresh", 5, "samples of figure (a)")
	exports  = flag.Int("exports", 2, "samples of figure (b)")
)

var lc *cloud.Cloud

// retried counts calls the API answered 5xx and that were asked again:
// the emulator, slow on a large table, sometimes fails a call the
// function makes. Results report it.
var retried int

// call is lc.CallJSON, asking again (up to 3 times, 200 ms apart) when
// the API answers 5xx.
func call(ctx context.Context, who, method, path string, body any) (int, map[string]any, error) {
	for attempt := 0; ; attempt++ {
		code, m, err := lc.CallJSON(ctx, who, method, path, body)
		if err != nil || code < 500 || attempt == 3 {
			return code, m, err
		}
		retried++
		time.Sleep(200 * time.Millisecond)
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	if *outDir == "" {
		fmt.Println("auditlag: skipped (runs with -out, as make bench does)")
		os.Exit(0)
	}
	c, stop, err := cloud.StartForTests("../..", "test/e2e/testdata/policies.yaml")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lc = c
	code := m.Run()
	stop()
	os.Exit(code)
}

// Summary is a sample's spread, in its unit.
type Summary struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	P99    float64 `json:"p99"`
	Max    float64 `json:"max"`
	Unit   string  `json:"unit"`
}

func summarize(xs []float64, unit string) Summary {
	if len(xs) == 0 {
		return Summary{Unit: unit}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	q := func(p float64) float64 {
		pos := p * float64(len(s)-1)
		lo := int(math.Floor(pos))
		hi := min(lo+1, len(s)-1)
		return round3(s[lo] + (s[hi]-s[lo])*(pos-float64(lo)))
	}
	return Summary{N: len(s), Median: q(0.5), P99: q(0.99), Max: round3(s[len(s)-1]), Unit: unit}
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Question is one standard audit question, asked through the API.
type Question struct {
	Name    string  `json:"name"`
	Query   string  `json:"query"`
	CLI     string  `json:"cli"`
	Athena  string  `json:"athena"`
	Latency Summary `json:"latency"`
	// Pages, Queries and Scanned are per answer (every page followed);
	// Answer is the events returned, Matching those that answer it.
	Pages    int     `json:"pages"`
	Queries  int     `json:"queries"`
	Scanned  int     `json:"scanned"`
	Answer   int     `json:"answer"`
	Matching int     `json:"matching"`
	Index    string  `json:"index"`
	PerEvent float64 `json:"scanned_per_event"`
}

// Round is the standard questions asked on a table of one size.
type Round struct {
	TableItems int        `json:"table_items"`
	Questions  []Question `json:"questions"`
}

// Results are the figures this benchmark writes.
type Results struct {
	When        time.Time `json:"when"`
	TrailEvents int       `json:"trail_events"`
	TrailItems  int       `json:"trail_requests"`
	OlderEvents int       `json:"older_events"`
	SeedSeconds float64   `json:"seed_seconds"`
	Fresh       Summary   `json:"event_to_search"`
	Export      Summary   `json:"end_to_export"`
	ExportItems int       `json:"export_items"`
	// Rounds: the same questions before and after the older trail grew
	// the table; their answers, and so their reads, are the same.
	Rounds []Round `json:"rounds"`
	// Retried is the API calls answered 5xx and asked again.
	Retried int `json:"retried"`
}

func TestAuditLag(t *testing.T) {
	ctx := context.Background()
	res := Results{When: time.Now().UTC()}
	db := dynamodb.NewFromConfig(provision.EmulatorConfig(lc.EdgeURL, cloud.Region))

	// The trail: 90 days ending now.
	now := time.Now().UTC()
	tr := trail.Make(trail.Config{Requests: *requests, Days: 90, Start: now.Add(-90 * 24 * time.Hour), Seed: 42})
	start := time.Now()
	seed(t, tr)
	res.SeedSeconds = round3(time.Since(start).Seconds())
	res.TrailEvents, res.TrailItems = len(tr.Events), len(tr.Requests)
	t.Logf("trail: %d requests, %d events, written in %.1f s", len(tr.Requests), len(tr.Events), res.SeedSeconds)
	// (a) A request's created event, from the API's 201 to the first
	// search page that holds it.
	alice, err := lc.Identity("alice")
	if err != nil {
		t.Fatal(err)
	}
	var freshMs []float64
	var ended []string
	for i := 0; i < *fresh; i++ {
		code, body, err := call(ctx, "alice", "POST", "/v1/requests", map[string]string{"resource": "sandbox-admin", "duration": "15m", "reason": "audit lag benchmark"})
		at := time.Now()
		if err != nil || code != http.StatusCreated {
			t.Fatalf("create: %d %v %v", code, body, err)
		}
		id := body["id"].(string)
		created, _ := time.Parse(time.RFC3339Nano, body["created_at"].(string))
		q := url.Values{"action": {"created"}, "requester": {alice.PrincipalARN}, "from": {created.Add(-time.Second).Format(time.RFC3339Nano)}, "limit": {"50"}}
		for {
			code, page, err := call(ctx, "frank", "GET", "/v1/audit?"+q.Encode(), nil)
			if err != nil || code != http.StatusOK {
				t.Fatalf("search: %d %v %v", code, page, err)
			}
			if holds(page, id) {
				break
			}
			if time.Since(at) > 30*time.Second {
				t.Fatalf("request %s never appeared in audit search %s: %v", id, q.Encode(), page)
			}
			time.Sleep(10 * time.Millisecond)
		}
		freshMs = append(freshMs, ms(time.Since(at)))
		ended = append(ended, id)
	}
	res.Fresh = summarize(freshMs, "ms")

	// (b) A request ended (cancelled) → the compliance export holds it
	// ended: the export run right after, downloaded and read.
	var exportS []float64
	for i := 0; i < *exports && i < len(ended); i++ {
		id := ended[i]
		if code, body, err := call(ctx, "alice", "POST", "/v1/requests/"+id+"/cancel", nil); err != nil || code != http.StatusOK {
			t.Fatalf("cancel: %d %v %v", code, body, err)
		}
		at := time.Now()
		items, found := exportHolds(t, db, fmt.Sprintf("exports-%d", i), id, "cancelled")
		if !found {
			t.Fatalf("export %d lacks request %s cancelled", i, id)
		}
		exportS = append(exportS, round3(time.Since(at).Seconds()))
		res.ExportItems = items
	}
	res.Export = summarize(exportS, "s")

	// (c), on the trail of the last 90 days, then again once an older
	// trail, outside every question's period, has grown the table: the
	// answers are the same.
	res.Rounds = append(res.Rounds, questionsRound(t, db, now))
	if *older > 0 {
		old := trail.Make(trail.Config{Requests: *older, Days: 180, Start: now.Add(-270 * 24 * time.Hour), Seed: 43})
		seed(t, old)
		res.OlderEvents = len(old.Events)
		res.Rounds = append(res.Rounds, questionsRound(t, db, now))
	}

	res.Retried = retried
	if err := write(res); err != nil {
		t.Fatal(err)
	}
}

func holds(page map[string]any, id string) bool {
	evs, _ := page["events"].([]any)
	for _, e := range evs {
		if m, _ := e.(map[string]any); m["request_id"] == id {
			return true
		}
	}
	return false
}

func detail(ev map[string]any, k string) string {
	d, _ := ev["detail"].(map[string]any)
	s, _ := d[k].(string)
	return s
}

type answer struct {
	took                                      time.Duration
	pages, queries, scanned, events, matching int
	index                                     string
}

// ask follows every page of a search as the auditor.
func ask(ctx context.Context, params url.Values, match func(map[string]any) bool) (answer, error) {
	var a answer
	q := url.Values{}
	for k, v := range params {
		q[k] = v
	}
	start := time.Now()
	for {
		code, page, err := call(ctx, "frank", "GET", "/v1/audit?"+q.Encode(), nil)
		if err != nil || code != http.StatusOK {
			return a, fmt.Errorf("search: %d %v %v", code, page, err)
		}
		a.pages++
		a.queries += int(page["queries"].(float64))
		a.scanned += int(page["scanned"].(float64))
		a.index, _ = page["index"].(string)
		evs, _ := page["events"].([]any)
		a.events += len(evs)
		for _, e := range evs {
			if m, _ := e.(map[string]any); match == nil || match(m) {
				a.matching++
			}
		}
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		q.Set("cursor", next)
	}
	a.took = time.Since(start)
	return a, nil
}

// exportHolds exports the table to the emulator's S3 under prefix and
// reads it for the request's item with status; it returns the items
// exported.
func exportHolds(t *testing.T, db *dynamodb.Client, prefix, id, status string) (int, bool) {
	t.Helper()
	ctx := context.Background()
	const bucket = "jit-audit-lag"
	s3(t, "PUT", "/"+bucket, nil)
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(lc.Table)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := db.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{
		TableArn: desc.Table.TableArn, S3Bucket: aws.String(bucket), S3Prefix: aws.String(prefix), ExportFormat: ddbtypes.ExportFormatDynamodbJson,
	})
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		d, err := db.DescribeExport(ctx, &dynamodb.DescribeExportInput{ExportArn: out.ExportDescription.ExportArn})
		if err != nil {
			t.Fatal(err)
		}
		if d.ExportDescription.ExportStatus == ddbtypes.ExportStatusCompleted {
			break
		}
		if d.ExportDescription.ExportStatus == ddbtypes.ExportStatusFailed || time.Now().After(deadline) {
			t.Fatalf("export: %s", d.ExportDescription.ExportStatus)
		}
	}
	var list struct {
		Keys []string `xml:"Contents>Key"`
	}
	if err := xml.Unmarshal(s3(t, "GET", "/"+bucket, url.Values{"list-type": {"2"}, "prefix": {prefix + "/AWSDynamoDB/"}}), &list); err != nil {
		t.Fatal(err)
	}
	items, found := 0, false
	for _, k := range list.Keys {
		if !strings.Contains(k, "/data/") {
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(s3(t, "GET", "/"+bucket+"/"+k, nil)))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.Split(raw, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			items++
			var it struct {
				Item struct {
					ID     struct{ S string } `json:"id"`
					Status struct{ S string } `json:"status"`
				}
			}
			if err := json.Unmarshal(line, &it); err != nil {
				t.Fatalf("export line: %v", err)
			}
			if it.Item.ID.S == id && it.Item.Status.S == status {
				found = true
			}
		}
	}
	return items, found
}

// s3 sends one S3 call to the emulator; an error answer fails the test
// (creating the bucket again is fine).
func s3(t *testing.T, method, path string, query url.Values) []byte {
	t.Helper()
	r, err := lc.S3(context.Background(), method, path, query)
	if err != nil {
		t.Fatal(err)
	}
	if r.Code >= 300 && !(method == "PUT" && r.Code == http.StatusConflict) {
		t.Fatalf("s3 %s %s: %d %s", method, path, r.Code, r.Body)
	}
	return r.Body
}

func write(res Results) error {
	dir := *outDir
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(".", dir)
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "audit-lag.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "AUDIT-LAG.md"), []byte(markdown(res)), 0o644)
}

// questionsRound asks the standard questions (figure c) *runs times each.
func questionsRound(t *testing.T, db *dynamodb.Client, now time.Time) Round {
	ctx := context.Background()
	round := Round{TableItems: tableItems(t, db)}
	day := now.Add(-30 * 24 * time.Hour).Truncate(24 * time.Hour)
	week := day.Add(-6 * 24 * time.Hour)
	resource := "prod-admin"
	maxWindow := 4 * time.Hour // the trail's longest request
	questions := []struct {
		q      Question
		params url.Values
		match  func(ev map[string]any) bool
	}{
		{Question{Name: "Who had access to " + resource + " during a day",
			CLI:    "jit audit search --resource " + resource + " --action active --from <day − 4h> --to <day end>",
			Athena: "access_during"},
			url.Values{"resource": {resource}, "action": {"active"}, "from": {day.Add(-maxWindow).Format(time.RFC3339)}, "to": {day.Add(24 * time.Hour).Format(time.RFC3339)}},
			func(ev map[string]any) bool {
				// Granted before the day ends, still active after it began.
				exp, _ := time.Parse(time.RFC3339, detail(ev, "expires_at"))
				return exp.After(day)
			}},
		{Question{Name: "Who approved access to " + resource + " in a week",
			CLI:    "jit audit search --resource " + resource + " --action approved --from <week> --to <week end>",
			Athena: "approvals_by_approver"},
			url.Values{"resource": {resource}, "action": {"approved"}, "from": {week.Format(time.RFC3339)}, "to": {day.Add(24 * time.Hour).Format(time.RFC3339)}}, nil},
		{Question{Name: "What was revoked early in 30 days",
			CLI:    "jit audit search --action revoked --from <30 days ago> --to <day end>",
			Athena: "revoked_early"},
			url.Values{"action": {"revoked"}, "from": {day.Add(-29 * 24 * time.Hour).Format(time.RFC3339)}, "to": {day.Add(24 * time.Hour).Format(time.RFC3339)}}, nil},
		{Question{Name: "Break-glass uses in 90 days",
			CLI:    "jit audit search --actor break-glass --from <90 days ago>",
			Athena: "break_glass"},
			url.Values{"actor": {"break-glass"}, "from": {now.Add(-90 * 24 * time.Hour).Format(time.RFC3339)}, "to": {now.Format(time.RFC3339)}}, nil},
	}
	for _, qq := range questions {
		q := qq.q
		qq.params.Set("limit", "200")
		q.Query = "GET /v1/audit?" + qq.params.Encode()
		var lat []float64
		for i := 0; i < *runs; i++ {
			a, err := ask(ctx, qq.params, qq.match)
			if err != nil {
				t.Fatalf("%s: %v", q.Name, err)
			}
			lat = append(lat, ms(a.took))
			q.Pages, q.Queries, q.Scanned, q.Answer, q.Matching, q.Index = a.pages, a.queries, a.scanned, a.events, a.matching, a.index
		}
		q.Latency = summarize(lat, "ms")
		if q.Answer > 0 {
			q.PerEvent = round3(float64(q.Scanned) / float64(q.Answer))
		}
		t.Logf("%s: %d events (%d matching), %d queries, %d entries read, median %.1f ms", q.Name, q.Answer, q.Matching, q.Queries, q.Scanned, q.Latency.Median)
		round.Questions = append(round.Questions, q)
	}
	return round
}

// seed writes a trail straight to the emulator, four writers at once:
// this is setup, not a figure.
func seed(t *testing.T, tr trail.Trail) {
	t.Helper()
	ctx := context.Background()
	moto := dynamodb.NewFromConfig(provision.EmulatorConfig(lc.MotoURL, cloud.Region))
	const writers = 4
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		go func() {
			var reqs []*access.Request
			var evs []access.Event
			for i := w; i < len(tr.Requests); i += writers {
				reqs = append(reqs, tr.Requests[i])
			}
			for i := w; i < len(tr.Events); i += writers {
				evs = append(evs, tr.Events[i])
			}
			errs <- store.Seed(ctx, moto, lc.Table, reqs, evs)
		}()
	}
	for w := 0; w < writers; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// tableItems is the table's item count (moto counts at once).
func tableItems(t *testing.T, db *dynamodb.Client) int {
	t.Helper()
	d, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(lc.Table)})
	if err != nil {
		t.Fatal(err)
	}
	return int(aws.ToInt64(d.Table.ItemCount))
}
