package store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/jitaccess/jit/shared/access"
)

// AuditQuery selects audit events: all of the non-empty filters must
// match, and the event's time must lie in [From, To]. With a Cursor and
// no period, the cursor's period is searched.
type AuditQuery struct {
	Requester string
	Actor     string
	Resource  string
	// Type is the event type (the "action"): created, approved, active…
	Type string
	// Status keeps the transitions that reached it.
	Status   access.Status
	From, To time.Time
	// Limit is the most events on a page.
	Limit  int
	Cursor string
}

// AuditPage is one page of a search, newest first.
type AuditPage struct {
	Events []access.Event
	// Next continues the search ("" when it is complete).
	Next string
	// Index names the index that answered; Queries and Scanned count the
	// Query calls and the index entries they read (before filters), so
	// that a caller can see what a search cost.
	Index   string
	Queries int
	Scanned int
}

// MaxAuditRange is the longest period one search may cover.
const MaxAuditRange = 400 * 24 * time.Hour

// bucketsPerPage bounds the time buckets one page visits, so a page of a
// sparse search over a long period answers quickly; its cursor says where
// the next page resumes.
const bucketsPerPage = 31

// auditIndex is how one kind of search reads: the index, its time
// buckets, and the partitions of one bucket.
type auditIndex struct {
	name       string
	pkAttr     string
	skAttr     string
	layout     string // bucket layout: monthLayout or dayLayout
	partitions func(bucket string) []string
	filters    []string // filters the key already applies
}

// plan picks the index for q: the most selective filter present becomes
// the key; the others are applied as filters on that Query.
func plan(q AuditQuery) auditIndex {
	typ := q.Type
	if typ == "" && q.Status != "" {
		// A transition's event type is the status it reaches.
		typ = string(q.Status)
	}
	one := func(key func(bucket string) string) func(string) []string {
		return func(b string) []string { return []string{key(b)} }
	}
	sharded := func(key func(bucket string, shard int) string) func(string) []string {
		return func(b string) []string {
			out := make([]string, shards)
			for i := range out {
				out[i] = key(b, i)
			}
			return out
		}
	}
	switch {
	case q.Requester != "":
		return auditIndex{name: gsi4, pkAttr: attrGSI4PK, skAttr: attrGSI4SK, layout: monthLayout, filters: []string{"requester"},
			partitions: one(func(b string) string { return auditRequesterKey(q.Requester, b) })}
	case q.Resource != "":
		return auditIndex{name: gsi6, pkAttr: attrGSI6PK, skAttr: attrGSI6SK, layout: monthLayout, filters: []string{"resource"},
			partitions: one(func(b string) string { return auditResourceKey(q.Resource, b) })}
	case q.Actor != "":
		return auditIndex{name: gsi5, pkAttr: attrGSI5PK, skAttr: attrGSI5SK, layout: monthLayout, filters: []string{"actor"},
			partitions: one(func(b string) string { return auditActorKey(q.Actor, b) })}
	case typ != "":
		return auditIndex{name: gsi7, pkAttr: attrGSI7PK, skAttr: attrGSI7SK, layout: monthLayout, filters: []string{"type"},
			partitions: sharded(func(b string, i int) string { return auditTypeKey(typ, b, i) })}
	}
	return auditIndex{name: gsi3, pkAttr: attrGSI3PK, skAttr: attrGSI3SK, layout: dayLayout,
		partitions: sharded(auditDayKey)}
}

// buckets lists the time buckets of [from, to], newest first.
func buckets(layout string, from, to time.Time) []string {
	step := func(t time.Time) time.Time { return t.AddDate(0, 0, -1) }
	start := time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, time.UTC)
	if layout == monthLayout {
		start = time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, time.UTC)
		step = func(t time.Time) time.Time { return t.AddDate(0, -1, 0) }
	}
	var out []string
	for b := start; !b.After(to); b = step(b) {
		out = append(out, b.Format(layout))
		if !b.After(from) {
			break
		}
	}
	return out
}

// auditCursor is where a search resumes: a bucket, and the sort key of
// the last event returned from it ("" for the whole bucket). It carries
// the search's period, so a next page asked without one continues the
// same period; Query is a digest of the search, so a cursor only
// continues the search it came from.
type auditCursor struct {
	Bucket string `json:"b"`
	After  string `json:"k,omitempty"`
	From   string `json:"f"`
	To     string `json:"t"`
	Query  string `json:"q"`
}

func (q AuditQuery) digest() string {
	h := sha256.Sum256([]byte(strings.Join([]string{q.Requester, q.Actor, q.Resource, q.Type, string(q.Status),
		formatTime(q.From), formatTime(q.To)}, "\x00")))
	return hex.EncodeToString(h[:8])
}

func encodeAuditCursor(q AuditQuery, bucket, after string) string {
	b, _ := json.Marshal(auditCursor{Bucket: bucket, After: after, From: formatTime(q.From), To: formatTime(q.To), Query: q.digest()})
	return base64.RawURLEncoding.EncodeToString(b)
}

func readAuditCursor(s string) (auditCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return auditCursor{}, ErrBadCursor
	}
	var c auditCursor
	if err := json.Unmarshal(b, &c); err != nil {
		return auditCursor{}, ErrBadCursor
	}
	return c, nil
}

func decodeAuditCursor(c auditCursor, q AuditQuery, all []string) (auditCursor, int, error) {
	if c.Query != q.digest() {
		return auditCursor{}, 0, ErrBadCursor
	}
	for i, bucket := range all {
		if bucket == c.Bucket && (c.After == "" || strings.HasPrefix(c.After, bucket)) {
			return c, i, nil
		}
	}
	return auditCursor{}, 0, ErrBadCursor
}

// SearchAudit answers an audit search with Queries on the index planned
// for its filters, never a Scan: the newest events first, a page at a
// time.
func (s *Store) SearchAudit(ctx context.Context, q AuditQuery) (*AuditPage, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("audit search: limit must be positive")
	}
	var c auditCursor
	if q.Cursor != "" {
		var err error
		if c, err = readAuditCursor(q.Cursor); err != nil {
			return nil, err
		}
		if q.From.IsZero() && q.To.IsZero() {
			from, ferr := parseTime(c.From)
			to, terr := parseTime(c.To)
			if ferr != nil || terr != nil {
				return nil, ErrBadCursor
			}
			q.From, q.To = from, to
		}
	}
	if q.To.Before(q.From) || q.To.Sub(q.From) > MaxAuditRange {
		return nil, fmt.Errorf("audit search: the period must run forward and span at most %s", MaxAuditRange)
	}
	q.From, q.To = q.From.UTC(), q.To.UTC()
	ix := plan(q)
	all := buckets(ix.layout, q.From, q.To)
	first, after := 0, ""
	if q.Cursor != "" {
		c, i, err := decodeAuditCursor(c, q, all)
		if err != nil {
			return nil, err
		}
		first, after = i, c.After
	}
	page := &AuditPage{Index: ix.name}
	filter := auditFilter(q, ix)
	lo, hi := formatTime(q.From), formatTime(q.To)+"~"
	for i := first; i < len(all) && i < first+bucketsPerPage; i++ {
		upper := hi
		if i == first && after != "" {
			upper = after
		}
		need := q.Limit - len(page.Events)
		got, more, err := s.searchBucket(ctx, ix, all[i], lo, upper, need, filter, page)
		if err != nil {
			return nil, err
		}
		page.Events = append(page.Events, got...)
		if len(page.Events) == q.Limit && (more || i+1 < len(all)) {
			last := page.Events[len(page.Events)-1]
			bucket, sk := all[i], auditSK(last.At, last.RequestID, last.Type)
			if !more {
				bucket, sk = all[i+1], ""
			}
			page.Next = encodeAuditCursor(q, bucket, sk)
			return page, nil
		}
		if i+1 == first+bucketsPerPage && i+1 < len(all) {
			page.Next = encodeAuditCursor(q, all[i+1], "")
		}
	}
	return page, nil
}

// searchBucket reads up to need matching events of one bucket with sort
// keys in [lo, upper), newest first, from each of the bucket's partitions
// at once, and merges them. more reports that the bucket may hold more.
func (s *Store) searchBucket(ctx context.Context, ix auditIndex, bucket, lo, upper string, need int,
	filter *expression.ConditionBuilder, page *AuditPage) ([]access.Event, bool, error) {
	parts := ix.partitions(bucket)
	type result struct {
		items   []eventItem
		more    bool
		queries int
		scanned int
		err     error
	}
	results := make([]result, len(parts))
	var wg sync.WaitGroup
	for i, pk := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[i]
			r.items, r.more, r.queries, r.scanned, r.err = s.queryPartition(ctx, ix, pk, lo, upper, need, filter)
		}()
	}
	wg.Wait()
	var merged []eventItem
	more := false
	for _, r := range results {
		if r.err != nil {
			return nil, false, r.err
		}
		page.Queries += r.queries
		page.Scanned += r.scanned
		merged = append(merged, r.items...)
		more = more || r.more
	}
	sort.Slice(merged, func(a, b int) bool { return sortKeyOf(merged[a]) > sortKeyOf(merged[b]) })
	if len(merged) > need {
		merged, more = merged[:need], true
	}
	out := make([]access.Event, 0, len(merged))
	for _, it := range merged {
		ev, err := it.event()
		if err != nil {
			return nil, false, err
		}
		out = append(out, ev)
	}
	return out, more, nil
}

// sortKeyOf is an event's sort key, the same in every audit index.
func sortKeyOf(it eventItem) string { return it.GSI3SK }

// queryPartition reads one partition newest first until it has need
// matching events or runs out.
func (s *Store) queryPartition(ctx context.Context, ix auditIndex, pk, lo, upper string, need int,
	filter *expression.ConditionBuilder) (items []eventItem, more bool, queries, scanned int, err error) {
	b := expression.NewBuilder().WithKeyCondition(between(ix.pkAttr, pk, ix.skAttr, lo, upper))
	if filter != nil {
		b = b.WithFilter(*filter)
	}
	expr, err := b.Build()
	if err != nil {
		return nil, false, 0, 0, fmt.Errorf("audit search %s: build expression: %w", ix.name, err)
	}
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(ix.name),
		KeyConditionExpression:    expr.KeyCondition(),
		FilterExpression:          expr.Filter(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(need + 1)),
	}
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, false, queries, scanned, fmt.Errorf("audit search %s %s: %w", ix.name, pk, err)
		}
		queries++
		scanned += int(out.ScannedCount)
		for _, raw := range out.Items {
			var it eventItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, false, queries, scanned, fmt.Errorf("decode audit event: %w", err)
			}
			// BETWEEN includes its upper bound: the cursor's own event
			// was already returned.
			if sortKeyOf(it) >= upper {
				continue
			}
			items = append(items, it)
		}
		if len(items) >= need {
			return items, true, queries, scanned, nil
		}
		if len(out.LastEvaluatedKey) == 0 {
			return items, false, queries, scanned, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// auditFilter is the filter for the filters the index key does not
// apply, or nil if there are none.
func auditFilter(q AuditQuery, ix auditIndex) *expression.ConditionBuilder {
	keyed := map[string]bool{}
	for _, f := range ix.filters {
		keyed[f] = true
	}
	var filter *expression.ConditionBuilder
	add := func(field, attr, value string) {
		if value == "" || keyed[field] {
			return
		}
		c := expression.Name(attr).Equal(expression.Value(value))
		if filter != nil {
			c = filter.And(c)
		}
		filter = &c
	}
	add("requester", "requester", q.Requester)
	add("resource", "resource", q.Resource)
	add("actor", "actor", q.Actor)
	add("type", "type", q.Type)
	add("status", "to", string(q.Status))
	return filter
}

// RequestsCreated lists the requests created in [from, to], of one
// resource when resource is not empty (its index partition) or of all
// (every status partition of the status index, queried at once). It
// stops after max requests and reports whether it did.
func (s *Store) RequestsCreated(ctx context.Context, from, to time.Time, resource string, max int) ([]*access.Request, bool, error) {
	type part struct{ index, attr, skAttr, pk string }
	var parts []part
	if resource != "" {
		parts = append(parts, part{gsi2, attrGSI2PK, attrGSI2SK, resourceKey(resource)})
	} else {
		for _, st := range access.Statuses() {
			for i := 0; i < shards; i++ {
				parts = append(parts, part{gsi3, attrGSI3PK, attrGSI3SK, fmt.Sprintf("STATUS#%s#%d", st, i)})
			}
		}
	}
	results := make([][]*access.Request, len(parts))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i, p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			kc := mustBuild(expression.NewBuilder().
				WithKeyCondition(between(p.attr, p.pk, p.skAttr, formatTime(from), formatTime(to)+"~")))
			pg := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
				TableName:                &s.table,
				IndexName:                aws.String(p.index),
				KeyConditionExpression:   kc.KeyCondition(),
				ExpressionAttributeNames: kc.Names(), ExpressionAttributeValues: kc.Values(),
			})
			for pg.HasMorePages() && len(results[i]) <= max {
				out, err := pg.NextPage(ctx)
				if err != nil {
					errs[i] = fmt.Errorf("requests created %s: %w", p.pk, err)
					return
				}
				for _, raw := range out.Items {
					var it requestItem
					if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
						errs[i] = fmt.Errorf("decode request: %w", err)
						return
					}
					r, err := it.request()
					if err != nil {
						errs[i] = err
						return
					}
					results[i] = append(results[i], r)
				}
			}
		}()
	}
	wg.Wait()
	var all []*access.Request
	for i := range parts {
		if errs[i] != nil {
			return nil, false, errs[i]
		}
		all = append(all, results[i]...)
	}
	sort.Slice(all, func(a, b int) bool { return all[a].CreatedAt.After(all[b].CreatedAt) })
	if len(all) > max {
		return all[:max], true, nil
	}
	return all, false, nil
}
