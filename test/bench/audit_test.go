package bench

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/api"
	"github.com/jitaccess/jit/shared/audit"
)

// Figure 7 asks how long an auditor waits for an answer: a search through
// the HTTP API per kind of filter, how soon a new event can be found, a
// whole export, and the CSV writing on its own. The trail it searches is
// written by real request lifecycles, as the functions write it.

var (
	auditRequests = flag.Int("audit-requests", 16, "deny and cancel lifecycles (in turn) the audit step runs to add to the trail")
	auditTrails   = flag.Int("audit-trails", 24, "finished approve→expire and approve→revoke trails (each) the lifecycle steps keep for the audit step")
	auditSamples  = flag.Int("audit-samples", 200, "GET /v1/audit calls per filter kind")
	auditPage     = flag.Int("audit-page", 20, "page size (limit) of the measured searches; the API's default is 50")
	auditExports  = flag.Int("audit-exports", 2, "full CSV exports of the period")
	auditCSVSize  = flag.Int("audit-csv-events", 1000, "events per WriteCSV call in BenchmarkAuditWriteCSV")
)

// The auditor, and the approver the actor search looks for.
const (
	auditor       = "frank"
	auditApprover = "carol@example.com"
)

// auditWanted reports whether this run has the audit step, which the
// lifecycle steps then help (figure 7b, and trails kept for 7a).
func auditWanted() bool {
	return *steps == "" || slices.Contains(strings.Split(*steps, ","), "audit")
}

// AuditResults are figure 7.
type AuditResults struct {
	// The trail: where its requests came from, and the table the
	// searches ran over.
	Trails     map[string]int `json:"trails_by_kind"`
	Requests   int            `json:"requests_in_table"`
	Statuses   map[string]int `json:"requests_by_status"`
	NotWritten []string       `json:"lifecycles_failed,omitempty"`
	// Retried are lifecycles that failed once and were run again.
	Retried []string `json:"lifecycles_retried,omitempty"`
	// Trouble is each function's errors, timeouts, throttles and crashes
	// (local runner counts) while the trail was built and searched.
	Trouble         map[string]string `json:"function_trouble,omitempty"`
	Inflight        int               `json:"inflight"`
	PopulateSeconds float64           `json:"populate_seconds"`
	TableItems      int               `json:"table_items"`
	EventItems      int               `json:"event_items"`
	EventsByType    map[string]int    `json:"events_by_type"`

	// MotoEmptyQuery and MotoPageQuery calibrate the emulator: a Query
	// (directly on moto) of an index partition that holds nothing, and
	// one that returns a page of 51 entries.
	MotoEmptyQuery Summary `json:"moto_query_empty_partition"`
	MotoPageQuery  Summary `json:"moto_query_51_entries"`

	Page   int `json:"search_page_size"`
	Target int `json:"searches_per_filter_target"`
	// Budgeted says the searches stopped short of -audit-samples rounds
	// to keep the run within -budget.
	Budgeted bool `json:"searches_cut_by_time_budget,omitempty"`
	// SearchSeconds is how long the searches took in all; Budget is the
	// run's -budget.
	SearchSeconds float64        `json:"searches_seconds"`
	Budget        string         `json:"budget"`
	Searches      []*AuditSearch `json:"searches"`
	Fresh         *AuditFresh    `json:"freshness,omitempty"`
	Export        *AuditExport   `json:"export,omitempty"`
	CSV           *AuditCSV      `json:"write_csv_in_process,omitempty"`
}

// AuditFresh is figure 7b: approve 200 → the first search answer that
// holds the approved event, timed during the lifecycle step.
type AuditFresh struct {
	Found     Summary  `json:"approve_to_found"`
	FirstPoll Summary  `json:"first_search_latency"`
	Polls     Summary  `json:"searches_needed"`
	Query     string   `json:"query"`
	Of        int      `json:"lifecycles"`
	Failed    []string `json:"failed,omitempty"`
}

// AuditSearch is GET /v1/audit with one kind of filter.
type AuditSearch struct {
	Filter  string  `json:"filter"`
	Query   string  `json:"query"`
	Latency Summary `json:"latency"`
	// Emulator is the time at the edge covered by the DynamoDB calls of
	// each search; Rest is the remainder (gateway, local Lambda, the api
	// function, SDK and transport).
	Emulator Summary `json:"emulator_at_edge"`
	Rest     Summary `json:"rest"`
	Index    string  `json:"index"`
	// Queries, Scanned and Events are means per search, from the
	// responses; EdgeQueries counts the Query calls at the edge.
	Queries     float64 `json:"queries_per_search"`
	Scanned     float64 `json:"scanned_per_search"`
	Events      float64 `json:"events_per_page"`
	EdgeQueries float64 `json:"edge_queries_per_search"`
	MorePages   int     `json:"pages_with_next_cursor"`
	Errors      int     `json:"errors"`
	Mismatches  int     `json:"events_not_matching_filter"`
	FirstError  string  `json:"first_error,omitempty"`
}

// AuditExport is GET /v1/audit/export?format=csv followed page by page.
type AuditExport struct {
	Runs        int     `json:"runs"`
	Events      int     `json:"events"`
	Expected    int     `json:"events_in_table"`
	Pages       int     `json:"pages"`
	Bytes       int     `json:"bytes"`
	Total       Summary `json:"total"`
	PerPage     Summary `json:"per_page"`
	EventsPerS  float64 `json:"events_per_second"`
	EdgeQueries float64 `json:"edge_queries_per_export"`
	EmulatorMS  float64 `json:"emulator_ms_per_export"`
	Errors      int     `json:"errors"`
	FirstError  string  `json:"first_error,omitempty"`
}

// AuditCSV is audit.WriteCSV in process.
type AuditCSV struct {
	Events      int     `json:"events"`
	Source      string  `json:"source"`
	NsPerOp     int64   `json:"ns_per_op"`
	AllocsPerOp int64   `json:"allocs_per_op"`
	BytesPerOp  int64   `json:"bytes_per_op"`
	OutputBytes int     `json:"output_bytes"`
	EventsPerS  float64 `json:"events_per_second"`
}

// auditEvents holds real events from the export, for the in-process CSV
// benchmark.
var auditEvents struct {
	sync.Mutex
	evs []access.Event
}

// fresh7b is figure 7b as the lifecycle step measured it.
var fresh7b struct {
	sync.Mutex
	r *AuditFresh
}

// Kinds of trail, as results.json names them.
const (
	trailExpire = "approve → expire (lifecycle step)"
	trailRevoke = "approve → revoke (revoke step)"
	kindDeny    = "deny"
	kindCancel  = "cancel"
)

// benchAudit builds the trail (trails the lifecycle steps kept, put back,
// and deny and cancel lifecycles run here), then measures searches by
// filter and the CSV export, and keeps some events for the in-process CSV
// benchmark. Figure 7b was measured during the lifecycle step.
func benchAudit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// The gateway step's last creates may still be running their
	// workflows: let them finish.
	edgeCalls.waitQuiet(ctx, 2*time.Second)
	stats0 := lc.Runner.Stats()
	defer func() {
		trouble := map[string]string{}
		for name, st := range lc.Runner.Stats() {
			b := stats0[name]
			if e, to, th, cr := st.Errors-b.Errors, st.Timeouts-b.Timeouts, st.Throttles-b.Throttles, st.Crashes-b.Crashes; e+th+cr > 0 {
				trouble[name] = fmt.Sprintf("%d errors (%d timeouts), %d throttled, %d crashes", e, to, th, cr)
			}
		}
		if len(trouble) == 0 {
			return
		}
		logf("audit: function trouble during the step: %v", trouble)
		if ar := res.audit(); ar != nil {
			res.mu.Lock()
			ar.Trouble = trouble
			res.mu.Unlock()
		}
	}()
	ar := &AuditResults{Page: *auditPage, Target: *auditSamples}
	if err := populateAudit(ctx, t, ar); err != nil {
		t.Fatal(err)
	}
	var err error
	if ar.TableItems, ar.EventItems, ar.EventsByType, ar.Statuses, err = countTable(ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range ar.Statuses {
		ar.Requests += n
	}
	logf("audit: trail of %d requests (%v), %d events; table holds %d items; built in %.0f s",
		ar.Requests, ar.Trails, ar.EventItems, ar.TableItems, ar.PopulateSeconds)
	if ar.MotoEmptyQuery, ar.MotoPageQuery, err = calibrateMoto(ctx); err != nil {
		t.Fatal(err)
	}
	ar.Export = measureExport(ctx, ar.EventItems)
	logf("audit export: %d of %d events in %d pages, median %.0f ms (%.0f events/s), %.0f queries",
		ar.Export.Events, ar.Export.Expected, ar.Export.Pages, ar.Export.Total.Median, ar.Export.EventsPerS, ar.Export.EdgeQueries)
	if ar.Export.Errors >= ar.Export.Runs || ar.Export.Total.N > 0 && ar.Export.Events != ar.Export.Expected {
		t.Errorf("audit export: %d errors, %d events exported of %d in the table; first error: %s",
			ar.Export.Errors, ar.Export.Events, ar.Export.Expected, ar.Export.FirstError)
	}
	// The searches last: they take the time the run has left, up to
	// -audit-samples rounds.
	searching := time.Now()
	if ar.Searches, err = measureSearches(ctx, t, *auditPage); err != nil {
		t.Fatal(err)
	}
	ar.SearchSeconds = round3(time.Since(searching).Seconds())
	ar.Budgeted, ar.Budget = stopped.Load(), budget.String()
	for _, s := range ar.Searches {
		logf("audit search %-9s %s: median %.1f ms, p99 %.1f ms (emulator %.1f ms), %.1f queries, %.0f scanned, %.1f events, %d errors",
			s.Filter, s.Index, s.Latency.Median, s.Latency.P99, s.Emulator.Median, s.Queries, s.Scanned, s.Events, s.Errors)
		if s.Mismatches > 0 || s.Errors > s.Latency.N/10 {
			t.Errorf("audit search %s: %d errors, %d events not matching; first: %s", s.Filter, s.Errors, s.Mismatches, s.FirstError)
		} else if s.Errors > 0 {
			t.Logf("audit search %s: %d errors; first: %s", s.Filter, s.Errors, s.FirstError)
		}
		if s.Latency.N < 200 && *auditSamples >= 200 && !ar.Budgeted {
			t.Errorf("audit search %s: only %d samples", s.Filter, s.Latency.N)
		}
	}
	fresh7b.Lock()
	ar.Fresh = fresh7b.r
	fresh7b.Unlock()
	if ar.Fresh == nil || ar.Fresh.Found.N < 50 {
		t.Errorf("audit freshness: fewer than 50 samples from the lifecycle step (%+v)", ar.Fresh)
	}
	res.mu.Lock()
	if res.Audit != nil {
		ar.CSV = res.Audit.CSV
	}
	res.Audit = ar
	res.AuditPending = ""
	res.mu.Unlock()
}

// recordFreshness keeps figure 7b from the lifecycle step's samples that
// asked for it.
func recordFreshness(samples []*lifeSample) {
	var found, first, polls []float64
	r := &AuditFresh{Query: "GET /v1/audit?action=approved&requester=<principal>&from=<created − 1s>"}
	for _, s := range samples {
		if s == nil || !s.freshOn || s.approved.IsZero() {
			continue
		}
		r.Of++
		if s.freshErr != nil {
			r.Failed = append(r.Failed, s.freshErr.Error())
			continue
		}
		if s.fresh.polls == 0 {
			continue
		}
		found = append(found, float64(s.fresh.found.Sub(s.approved))/float64(time.Millisecond))
		first = append(first, float64(s.fresh.firstPoll)/float64(time.Millisecond))
		polls = append(polls, float64(s.fresh.polls))
	}
	if r.Of == 0 {
		return
	}
	r.Found, r.FirstPoll, r.Polls = summarize(found, "ms"), summarize(first, "ms"), summarize(polls, "searches")
	logf("audit freshness: approve 200 → found median %.1f ms, p99 %.1f ms (%d samples, %d failed, at most %.0f searches)",
		r.Found.Median, r.Found.P99, r.Found.N, len(r.Failed), r.Polls.Max)
	fresh7b.Lock()
	fresh7b.r = r
	fresh7b.Unlock()
}

type freshSample struct {
	found     time.Time     // end of the first search that held the event
	firstPoll time.Duration // the first search's latency
	polls     int
}

// populateAudit builds the trail: it runs auditRequests deny and cancel
// lifecycles (in turn, alternately for alice and bob, on sandbox-admin and
// self-check; Carol approves both), then puts back the approve → expire
// and approve → revoke trails the lifecycle steps kept. Putting them back
// costs a few BatchWriteItem calls; writing them here would cost every
// transaction of every lifecycle a copy of an ever larger table in moto.
func populateAudit(ctx context.Context, t *testing.T, ar *AuditResults) error {
	start := time.Now()
	n := *auditRequests
	ar.Inflight = min(*inflight, max(n, 1))
	ar.Trails = map[string]int{}
	ids := make([]string, n)
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range ar.Inflight {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				kind := []string{kindDeny, kindCancel}[i%2]
				who := []string{"alice", "bob"}[(i/2)%2]
				resource := lifecycleTargets[(i/4)%len(lifecycleTargets)].Resource
				ids[i], errs[i] = endEarly(ctx, kind, who, resource)
				if errs[i] != nil {
					// Recorded, and tried once more with a new request.
					t.Logf("audit lifecycle %s: %v (trying again)", ids[i], errs[i])
					ar.retried(errs[i])
					ids[i], errs[i] = endEarly(ctx, kind, who, resource)
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			ar.NotWritten = append(ar.NotWritten, err.Error())
			t.Logf("audit lifecycle %s: %v", ids[i], err)
		} else if ids[i] != "" {
			ar.Trails[[]string{kindDeny, kindCancel}[i%2]]++
		}
	}
	// The deny and cancel lifecycles end at once; wait for their last
	// notices, so the table no longer changes while it is searched.
	deadline := time.Now().Add(30 * time.Second)
	for _, id := range ids {
		for id != "" && !finalStatus[requestStatus(ctx, id)] && time.Now().Before(deadline) {
			sleepCtx(ctx, 200*time.Millisecond)
		}
	}
	edgeCalls.waitQuiet(ctx, time.Second)
	for kind, mode := range map[string]string{trailExpire: "expire", trailRevoke: "revoke"} {
		kept := trails.take(mode)
		var items []map[string]types.AttributeValue
		for _, trail := range kept {
			items = append(items, trail...)
		}
		if err := putItems(ctx, items); err != nil {
			return fmt.Errorf("put back %s trails: %w", kind, err)
		}
		ar.Trails[kind] = len(kept)
	}
	ar.PopulateSeconds = round3(time.Since(start).Seconds())
	if len(ar.NotWritten) > n/2 {
		return fmt.Errorf("%d of %d audit lifecycles failed; first: %s", len(ar.NotWritten), n, ar.NotWritten[0])
	}
	return nil
}

var retryMu sync.Mutex

// retried notes a lifecycle that failed and was tried again.
func (ar *AuditResults) retried(err error) {
	retryMu.Lock()
	defer retryMu.Unlock()
	ar.Retried = append(ar.Retried, err.Error())
}

// endEarly runs one lifecycle that ends before any grant: created, then
// denied by Carol's link or cancelled by its requester.
func endEarly(ctx context.Context, kind, who, resource string) (string, error) {
	id, err := create(ctx, who, resource, "10m")
	if err != nil {
		return "", err
	}
	mail, ok := mails.wait(ctx, id, time.Minute)
	if !ok {
		return id, fmt.Errorf("%s: no approval email within a minute", id)
	}
	if kind == kindDeny {
		return id, decide(ctx, mail.Link, "deny")
	}
	code, body, err := apiCall(ctx, who, "POST", "/v1/requests/"+id+"/cancel", nil)
	if err != nil || code != http.StatusOK {
		return id, fmt.Errorf("%s: cancel: %d %v %.200s", id, code, err, body)
	}
	return id, nil
}

// findApproved polls GET /v1/audit?action=approved&requester=… (from the
// request's creation on, as a watcher asking "what is new" would) until
// the page holds id's approved event, 20 ms between polls.
func findApproved(ctx context.Context, who, id string, from, approved time.Time) (freshSample, error) {
	me, err := lc.Identity(who)
	if err != nil {
		return freshSample{}, err
	}
	path := "/v1/audit?" + url.Values{
		"action": {"approved"}, "requester": {me.PrincipalARN}, "from": {from.UTC().Format(time.RFC3339Nano)},
	}.Encode()
	var fs freshSample
	for {
		t0 := time.Now()
		code, body, err := apiCall(ctx, auditor, "GET", path, nil)
		t1 := time.Now()
		fs.polls++
		if fs.polls == 1 {
			fs.firstPoll = t1.Sub(t0)
		}
		if err != nil || code != http.StatusOK {
			return fs, fmt.Errorf("%s: audit search: %d %v %.200s", id, code, err, body)
		}
		var page searchPage
		if err := json.Unmarshal(body, &page); err != nil {
			return fs, fmt.Errorf("%s: audit search: %w", id, err)
		}
		for _, ev := range page.Events {
			if ev.RequestID == id && ev.Type == "approved" {
				fs.found = t1
				return fs, nil
			}
		}
		if time.Since(approved) > 20*time.Second {
			return fs, fmt.Errorf("%s: approved event not found by the audit search after 20 s (%d searches)", id, fs.polls)
		}
		sleepCtx(ctx, 20*time.Millisecond)
	}
}

// searchPage is the JSON of GET /v1/audit.
type searchPage struct {
	Events     []access.Event `json:"events"`
	NextCursor string         `json:"next_cursor"`
	Index      string         `json:"index"`
	Queries    int            `json:"queries"`
	Scanned    int            `json:"scanned"`
}

// countTable counts the table's items, its audit events by type and its
// requests by status, directly on moto (not counted at the edge).
func countTable(ctx context.Context) (items, events int, byType, statuses map[string]int, err error) {
	byType, statuses = map[string]int{}, map[string]int{}
	p := dynamodb.NewScanPaginator(dynamoDirect(), &dynamodb.ScanInput{
		TableName:                aws.String(lc.Table),
		ProjectionExpression:     aws.String("#pk, #sk, #type, #status"),
		ExpressionAttributeNames: map[string]string{"#pk": "PK", "#sk": "SK", "#type": "type", "#status": "status"},
	})
	str := func(it map[string]types.AttributeValue, k string) string {
		if v, ok := it[k].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, 0, nil, nil, fmt.Errorf("scan: %w", err)
		}
		for _, it := range page.Items {
			items++
			pk := str(it, "PK")
			switch {
			case strings.HasPrefix(pk, eventPrefix):
				events++
				byType[str(it, "type")]++
			case strings.HasPrefix(pk, "REQ#") && str(it, "SK") == "REQUEST":
				statuses[str(it, "status")]++
			}
		}
	}
	return items, events, byType, statuses, nil
}

// calibrateMoto times Queries directly on moto (not through the edge) on
// the requester index: of a partition that holds nothing (moto still
// walks the whole table) and of alice's partition this month, 51 entries
// (as a search page asks for). The attribute and key names are the
// store's (keys.go).
func calibrateMoto(ctx context.Context) (empty, page Summary, err error) {
	alice, err := lc.Identity("alice")
	if err != nil {
		return empty, page, err
	}
	db := dynamoDirect()
	month := time.Now().UTC().Format("2006-01")
	query := func(pk string) (time.Duration, int, error) {
		t0 := time.Now()
		out, err := db.Query(ctx, &dynamodb.QueryInput{
			TableName:                aws.String(lc.Table),
			IndexName:                aws.String("GSI4"),
			KeyConditionExpression:   aws.String("#pk = :pk"),
			ExpressionAttributeNames: map[string]string{"#pk": "GSI4PK"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": &types.AttributeValueMemberS{Value: pk},
			},
			ScanIndexForward: aws.Bool(false),
			Limit:            aws.Int32(51),
		})
		if err != nil {
			return 0, 0, fmt.Errorf("calibrate moto: %w", err)
		}
		return time.Since(t0), len(out.Items), nil
	}
	var e, p []time.Duration
	for range 20 {
		d, _, err := query("EVREQUESTER#nobody#" + month)
		if err != nil {
			return empty, page, err
		}
		e = append(e, d)
		d, n, err := query("EVREQUESTER#" + alice.PrincipalARN + "#" + month)
		if err != nil {
			return empty, page, err
		}
		if n < 51 {
			return empty, page, fmt.Errorf("calibrate moto: alice's partition holds %d events, not 51 or more (the store's requester key changed?)", n)
		}
		p = append(p, d)
	}
	return summarize(ms(e), "ms"), summarize(ms(p), "ms"), nil
}

// auditFilter is one kind of search figure 7a measures.
type auditFilter struct {
	name   string
	params url.Values
	// match says whether an event answers the search.
	match func(access.Event) bool
}

func auditFilters() ([]auditFilter, error) {
	alice, err := lc.Identity("alice")
	if err != nil {
		return nil, err
	}
	return []auditFilter{
		{"requester", url.Values{"requester": {alice.PrincipalARN}}, func(e access.Event) bool { return e.Requester == alice.PrincipalARN }},
		{"actor", url.Values{"actor": {auditApprover}}, func(e access.Event) bool { return e.Actor == auditApprover }},
		{"resource", url.Values{"resource": {"sandbox-admin"}}, func(e access.Event) bool { return e.Resource == "sandbox-admin" }},
		{"action", url.Values{"action": {"approved"}}, func(e access.Event) bool { return e.Type == "approved" }},
		{"status", url.Values{"status": {"revoked"}}, func(e access.Event) bool { return e.To == access.Revoked }},
		{"none", url.Values{}, func(access.Event) bool { return true }},
	}, nil
}

// auditReserve is what the run still does after the audit searches: the
// cold starts and the in-process benchmarks (about 45 s), and a margin.
const auditReserve = 50 * time.Second

// stopped records that the searches stopped for the time budget.
var stopped atomic.Bool

// measureSearches sends auditSamples searches per filter as the auditor,
// one at a time, the filters taking turns (so a disturbance hits all of
// them alike), each over the default period (the last 30 days) with the
// default page size (50).
func measureSearches(ctx context.Context, t *testing.T, limit int) ([]*AuditSearch, error) {
	filters, err := auditFilters()
	if err != nil {
		return nil, err
	}
	for _, f := range filters {
		f.params.Set("limit", strconv.Itoa(limit))
	}
	type sample struct {
		filter   int
		t0       time.Time
		took     time.Duration
		emulator time.Duration
		queries  int
	}
	var samples []*sample
	out := make([]*AuditSearch, len(filters))
	for i, f := range filters {
		out[i] = &AuditSearch{Filter: f.name, Query: "GET /v1/audit?" + readable(f.params)}
	}
	pages := make([][]searchPage, len(filters))
	mark := edgeCalls.mark()
	for i := range *auditSamples {
		if left := *budget - time.Since(runStart); left < auditReserve {
			logf("audit searches: stopping after %d rounds of %d, %s before the run's budget (-budget %s) with %s still to do", i, *auditSamples, left.Round(time.Second), *budget, auditReserve)
			stopped.Store(true)
			break
		}
		for j := range filters {
			fi := (i + j) % len(filters)
			f, r := filters[fi], out[fi]
			path := "/v1/audit?" + f.params.Encode()
			s := &sample{filter: fi, t0: time.Now()}
			code, body, err := apiCall(ctx, auditor, "GET", path, nil)
			s.took = time.Since(s.t0)
			var page searchPage
			if err == nil && code == http.StatusOK {
				err = json.Unmarshal(body, &page)
			} else if err == nil {
				err = fmt.Errorf("%d %.300s", code, body)
			}
			if err != nil {
				r.Errors++
				if r.FirstError == "" {
					r.FirstError = err.Error()
				}
				continue
			}
			for _, e := range page.Events {
				if !f.match(e) {
					r.Mismatches++
				}
			}
			samples = append(samples, s)
			pages[fi] = append(pages[fi], page)
		}
	}
	// Give each DynamoDB call at the edge to the search it started in
	// (searches run one at a time, nothing else runs). A search's shard
	// Queries are sent at once and wait for each other in moto, so the
	// emulator's share is the time covered by at least one call.
	time.Sleep(50 * time.Millisecond)
	spans := make([][]span, len(samples))
	for _, c := range edgeCalls.since(mark) {
		if c.Service != "dynamodb" {
			continue
		}
		k := sort.Search(len(samples), func(k int) bool { return samples[k].t0.After(c.Start) }) - 1
		if k >= 0 && c.Start.Before(samples[k].t0.Add(samples[k].took)) {
			spans[k] = append(spans[k], span{c.Start, c.Start.Add(c.Duration)})
			if c.Operation == "Query" {
				samples[k].queries++
			}
		}
	}
	for k, s := range samples {
		s.emulator = covered(spans[k])
	}
	for fi, r := range out {
		var lat, emu, rest []time.Duration
		var edgeQueries int
		for _, s := range samples {
			if s.filter != fi {
				continue
			}
			lat = append(lat, s.took)
			emu = append(emu, s.emulator)
			rest = append(rest, s.took-s.emulator)
			edgeQueries += s.queries
		}
		r.Latency, r.Emulator, r.Rest = summarize(ms(lat), "ms"), summarize(ms(emu), "ms"), summarize(ms(rest), "ms")
		var queries, scanned, evs int
		for _, p := range pages[fi] {
			queries += p.Queries
			scanned += p.Scanned
			evs += len(p.Events)
			if p.NextCursor != "" {
				r.MorePages++
			}
			if r.Index == "" {
				r.Index = p.Index
			} else if r.Index != p.Index {
				t.Errorf("audit search %s answered by %s and %s", r.Filter, r.Index, p.Index)
			}
		}
		if n := float64(len(pages[fi])); n > 0 {
			r.Queries, r.Scanned, r.Events = round3(float64(queries)/n), round3(float64(scanned)/n), round3(float64(evs)/n)
			r.EdgeQueries = round3(float64(edgeQueries) / n)
		}
	}
	return out, nil
}

// readable is a query string as a person writes it (not escaped).
func readable(v url.Values) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+v.Get(k))
	}
	return strings.Join(parts, "&")
}

// span is one call's time at the edge.
type span struct{ from, to time.Time }

// covered is the time during which at least one of spans was running.
func covered(spans []span) time.Duration {
	sort.Slice(spans, func(i, j int) bool { return spans[i].from.Before(spans[j].from) })
	var total time.Duration
	var end time.Time
	for _, s := range spans {
		if s.from.After(end) {
			total += s.to.Sub(s.from)
			end = s.to
		} else if s.to.After(end) {
			total += s.to.Sub(end)
			end = s.to
		}
	}
	return total
}

// measureExport exports every event of the default period as CSV,
// following Jit-Next-Cursor, auditExports times, and keeps the first
// page's events (as JSON) for the in-process CSV benchmark.
func measureExport(ctx context.Context, expected int) *AuditExport {
	ex := &AuditExport{Runs: *auditExports, Expected: expected}
	var totals, perPage []time.Duration
	var emulator time.Duration
	var queryCount int
	fail := func(err error) {
		ex.Errors++
		if ex.FirstError == "" {
			ex.FirstError = err.Error()
		}
	}
	for run := range *auditExports {
		mark := edgeCalls.mark()
		t0 := time.Now()
		events, pages, size, cursor := 0, 0, 0, ""
		var err error
		for {
			path := "/v1/audit/export?format=csv"
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			p0 := time.Now()
			code, hdr, body, cerr := apiCallHeader(ctx, auditor, "GET", path, nil)
			perPage = append(perPage, time.Since(p0))
			if cerr != nil || code != http.StatusOK {
				err = fmt.Errorf("page %d: %d %v %.300s", pages+1, code, cerr, body)
				break
			}
			rows, rerr := csv.NewReader(bytes.NewReader(body)).ReadAll()
			if rerr != nil {
				err = fmt.Errorf("page %d: not CSV: %w", pages+1, rerr)
				break
			}
			if pages == 0 && len(rows) > 0 {
				rows = rows[1:] // the header row starts the first page only
			}
			events += len(rows)
			size += len(body)
			pages++
			if cursor = hdr.Get(api.NextCursorHeader); cursor == "" {
				break
			}
		}
		took := time.Since(t0)
		time.Sleep(50 * time.Millisecond)
		var spans []span
		for _, c := range edgeCalls.since(mark) {
			if c.Service == "dynamodb" {
				spans = append(spans, span{c.Start, c.Start.Add(c.Duration)})
				if c.Operation == "Query" {
					queryCount++
				}
			}
		}
		emulator += covered(spans)
		if err != nil {
			fail(fmt.Errorf("export %d: %w", run+1, err))
			continue
		}
		totals = append(totals, took)
		ex.Events, ex.Pages, ex.Bytes = events, pages, size
	}
	ex.Total = summarize(ms(totals), "ms")
	ex.PerPage = summarize(ms(perPage), "ms")
	if ex.Total.Median > 0 {
		ex.EventsPerS = round3(float64(ex.Events) / (ex.Total.Median / 1000))
	}
	if *auditExports > 0 {
		ex.EdgeQueries = round3(float64(queryCount) / float64(*auditExports))
		ex.EmulatorMS = round3(msOf(emulator) / float64(*auditExports))
	}
	// Real events for BenchmarkAuditWriteCSV: the same export as JSON.
	// Not an export figure: if it fails, the benchmark makes events up.
	code, body, err := apiCall(ctx, auditor, "GET", "/v1/audit/export?format=json", nil)
	var page searchPage
	if err == nil && code == http.StatusOK {
		err = json.Unmarshal(body, &page)
	} else if err == nil {
		err = fmt.Errorf("%d %.300s", code, body)
	}
	if err != nil {
		logf("audit: export as JSON for the CSV benchmark: %v", err)
		return ex
	}
	auditEvents.Lock()
	auditEvents.evs = page.Events
	auditEvents.Unlock()
	return ex
}

// BenchmarkAuditWriteCSV is audit.WriteCSV of auditCSVSize events, with
// the header row: the export's own CPU work per page. The events are the
// audit step's real ones (repeated if there are fewer), or made up like
// them when that step did not run.
func BenchmarkAuditWriteCSV(b *testing.B) {
	evs, source := csvEvents(*auditCSVSize)
	var buf bytes.Buffer
	if err := audit.WriteCSV(&buf, evs, true); err != nil {
		b.Fatal(err)
	}
	size := buf.Len()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b.ReportAllocs()
	b.ResetTimer()
	t0 := time.Now()
	for range b.N {
		buf.Reset()
		if err := audit.WriteCSV(&buf, evs, true); err != nil {
			b.Fatal(err)
		}
	}
	d := time.Since(t0)
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	r := &AuditCSV{
		Events: len(evs), Source: source, OutputBytes: size,
		NsPerOp:     int64(d) / int64(b.N),
		AllocsPerOp: int64(m1.Mallocs-m0.Mallocs) / int64(b.N),
		BytesPerOp:  int64(m1.TotalAlloc-m0.TotalAlloc) / int64(b.N),
	}
	r.EventsPerS = round3(float64(len(evs)) / (float64(r.NsPerOp) / 1e9))
	b.ReportMetric(r.EventsPerS, "events/s")
	// Go runs a benchmark with b.N=1 first; keep the real run.
	res.mu.Lock()
	defer res.mu.Unlock()
	if res.Audit == nil {
		res.Audit = &AuditResults{}
	}
	if b.N >= 100 || res.Audit.CSV == nil {
		res.Audit.CSV = r
	}
}

// csvEvents returns n events for the CSV benchmark and says where they
// came from.
func csvEvents(n int) ([]access.Event, string) {
	auditEvents.Lock()
	real := auditEvents.evs
	auditEvents.Unlock()
	if len(real) > 0 {
		out := make([]access.Event, n)
		for i := range out {
			out[i] = real[i%len(real)]
		}
		if len(real) >= n {
			return out, fmt.Sprintf("the first %d events of the export", n)
		}
		return out, fmt.Sprintf("the %d events of the export, repeated", len(real))
	}
	// Shaped like an approve → expire trail.
	at := time.Date(2026, time.November, 28, 9, 0, 0, 0, time.UTC)
	alice := "arn:aws:sts::123456789012:assumed-role/Engineer/alice@example.com"
	trail := []access.Event{
		{Type: "created", Actor: alice, To: access.Pending, SourceIP: "127.0.0.1", UserAgent: "Go-http-client/1.1",
			Detail: map[string]string{"duration": "5s", "reason": "benchmark request"}},
		{Type: "policy_evaluated", Actor: "policy", Detail: map[string]string{"mode": "approval", "version": "1"}},
		{Type: "approval_requested", Actor: "system", Detail: map[string]string{"level": "0"}},
		{Type: "notification_sent", Actor: "system", Detail: map[string]string{"channel": "email", "level": "0", "outcome": "sent", "to": auditApprover}},
		{Type: "approved", Actor: auditApprover, From: access.Pending, To: access.Approved, SourceIP: "127.0.0.1",
			Detail: map[string]string{"approvals": "1 of 1", "channel": "email", "level": "0"}},
		{Type: "active", Actor: "system", From: access.Approved, To: access.Active,
			Detail: map[string]string{"provider": "iam_role_trust", "statement": `{"Sid":"Jit01","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}`}},
		{Type: "notification_sent", Actor: "system", Detail: map[string]string{"channel": "email", "notice": "granted", "outcome": "sent", "to": "alice@example.com"}},
		{Type: "expired", Actor: "system", From: access.Active, To: access.Expired},
	}
	out := make([]access.Event, n)
	for i := range out {
		ev := trail[i%len(trail)]
		ev.RequestID = fmt.Sprintf("01jbench%018d", i/len(trail))
		ev.Resource, ev.Requester = "sandbox-admin", alice
		ev.At = at.Add(time.Duration(i) * time.Second)
		out[i] = ev
	}
	return out, "made up, shaped like approve → expire trails (the audit step did not run)"
}
