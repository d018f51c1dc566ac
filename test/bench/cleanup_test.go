package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/jitaccess/jit/shared/local/cloud"
	"github.com/jitaccess/jit/shared/local/provision"
)

// moto's TransactWriteItems deep-copies the whole table before it writes
// (to roll back on a failed condition), so every transaction costs time
// proportional to the table's size, and the DynamoDB lock the local cloud
// puts around moto makes every other DynamoDB call wait for it. Real
// DynamoDB has no such cost. So that each figure measures the system and
// not how much earlier steps left behind, the benchmark deletes, directly
// on moto (not through the edge, so nothing is counted), the items of
// requests it is done with: between steps, and during the lifecycle step
// as each request ends. Policy, lease and other items stay.

func dynamoDirect() *dynamodb.Client {
	return dynamodb.NewFromConfig(provision.EmulatorConfig(lc.MotoURL, cloud.Region))
}

// disposable reports whether an item belongs to one request: the request
// and its approvals (REQ#), its audit events (EVENT#, a partition of their
// own since the audit trail), decision links (LINK#) and idempotency keys
// (IDEM#). The policy's own events (EVENT#policy-N) stay.
func disposable(pk string) bool {
	if strings.HasPrefix(pk, eventPrefix) {
		return !strings.HasPrefix(pk, eventPrefix+"policy-")
	}
	return strings.HasPrefix(pk, "REQ#") || strings.HasPrefix(pk, "LINK#") || strings.HasPrefix(pk, "IDEM#")
}

// eventPrefix starts the partition key of a request's audit events
// (store keys.go: eventPK).
const eventPrefix = "EVENT#"

// requestOf is the request id an item's partition key belongs to ("" for
// items of no request).
func requestOf(pk string) string {
	for _, p := range []string{"REQ#", eventPrefix} {
		if id, ok := strings.CutPrefix(pk, p); ok {
			return id
		}
	}
	return ""
}

// cleanTable deletes every disposable item except those keep protects and
// returns how many items the table held before and after.
func cleanTable(ctx context.Context, keep func(pk string) bool) (before, after int, err error) {
	db := dynamoDirect()
	var keys []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{
		TableName:                aws.String(lc.Table),
		ProjectionExpression:     aws.String("#pk, #sk"),
		ExpressionAttributeNames: map[string]string{"#pk": "PK", "#sk": "SK"},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, 0, fmt.Errorf("scan: %w", err)
		}
		for _, it := range page.Items {
			before++
			pk, _ := it["PK"].(*types.AttributeValueMemberS)
			if pk != nil && disposable(pk.Value) && (keep == nil || !keep(pk.Value)) {
				keys = append(keys, it)
			}
		}
	}
	if err := deleteKeys(ctx, db, keys); err != nil {
		return before, 0, err
	}
	return before, before - len(keys), nil
}

// watchTable counts the table's items every interval (directly on moto,
// a Select=COUNT Scan) until the returned function is called, which
// returns the counts.
func watchTable(ctx context.Context, interval time.Duration) func() []float64 {
	ctx, cancel := context.WithCancel(ctx)
	var mu sync.Mutex
	var counts []float64
	done := make(chan struct{})
	go func() {
		defer close(done)
		db := dynamoDirect()
		for {
			sleepCtx(ctx, interval)
			if ctx.Err() != nil {
				return
			}
			n := 0
			p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(lc.Table), Select: types.SelectCount})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return
				}
				n += int(page.Count)
			}
			mu.Lock()
			counts = append(counts, float64(n))
			mu.Unlock()
		}
	}()
	return func() []float64 {
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return counts
	}
}

func deleteKeys(ctx context.Context, db *dynamodb.Client, keys []map[string]types.AttributeValue) error {
	for len(keys) > 0 {
		n := min(25, len(keys))
		reqs := make([]types.WriteRequest, 0, n)
		for _, k := range keys[:n] {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}})
		}
		keys = keys[n:]
		for len(reqs) > 0 {
			out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{lc.Table: reqs}})
			if err != nil {
				return fmt.Errorf("delete: %w", err)
			}
			reqs = out.UnprocessedItems[lc.Table]
		}
	}
	return nil
}

// janitor deletes the items of lifecycles that have ended, while others
// are still running.
type janitor struct {
	ch       chan janitorJob
	wg       sync.WaitGroup
	mu       sync.Mutex
	deleted  int
	statuses map[string]string // final status of each request cleaned
	// keepAs, when set, names the trails the janitor copies (whole items)
	// into the stash before deleting them, up to stashLimit of them.
	keepAs string
}

type janitorJob struct {
	id, link string
	due      time.Time
	any      bool // delete whatever the status (the benchmark is done with it)
}

func newJanitor(ctx context.Context) *janitor {
	j := &janitor{ch: make(chan janitorJob, 1024), statuses: map[string]string{}}
	j.wg.Go(func() { j.run(ctx) })
	return j
}

// done queues a request whose lifecycle the benchmark has finished with;
// its items go once the request is in a final status, checked from due on.
func (j *janitor) done(id, link string, due time.Time) {
	select {
	case j.ch <- janitorJob{id: id, link: link, due: due}:
	default: // full: leave the items
	}
}

func (j *janitor) close() {
	close(j.ch)
	j.wg.Wait()
}

// janitorWorkers clean at once: when moto is saturated one clean (a
// status read, two Queries, a BatchWriteItem) takes long enough that a
// single worker falls behind the lifecycles, and the table it should keep
// small grows instead.
const janitorWorkers = 3

func (j *janitor) run(ctx context.Context) {
	work := make(chan janitorJob)
	again := make(chan janitorJob, 4096) // not ended yet: try again later
	var workers sync.WaitGroup
	for range janitorWorkers {
		workers.Go(func() {
			db := dynamoDirect()
			for job := range work {
				ended, n := j.clean(ctx, db, job)
				if !ended {
					job.due = time.Now().Add(time.Second)
					select {
					case again <- job:
					default: // full: leave the items
					}
					continue
				}
				j.mu.Lock()
				j.deleted += n
				j.mu.Unlock()
			}
		})
	}
	defer func() {
		close(work)
		workers.Wait()
	}()
	var later []janitorJob
	for {
		if len(later) > 0 && !time.Now().Before(later[0].due) {
			select {
			case work <- later[0]:
				later = later[1:]
			case job := <-again:
				later = insertByDue(later, job)
			case <-ctx.Done():
				return
			}
			continue
		}
		select {
		case job, ok := <-j.ch:
			if !ok {
				// Closed: finish what is due soon, drop the rest.
				for _, l := range later {
					if time.Until(l.due) < 5*time.Second {
						sleepCtx(ctx, time.Until(l.due))
						select {
						case work <- l:
						case <-ctx.Done():
							return
						}
					}
				}
				return
			}
			later = insertByDue(later, job)
		case job := <-again:
			later = insertByDue(later, job)
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return
		}
	}
}

func insertByDue(q []janitorJob, job janitorJob) []janitorJob {
	i := sort.Search(len(q), func(i int) bool { return q[i].due.After(job.due) })
	return slices.Insert(q, i, job)
}

// discard queues a request to delete now, whatever its status: the
// gateway's creates, once their approval email has gone out, are never
// touched again (their executions wait for a decision that never comes).
func (j *janitor) discard(id, link string) {
	select {
	case j.ch <- janitorJob{id: id, link: link, due: time.Now(), any: true}:
	default:
	}
}

var finalStatus = map[string]bool{"expired": true, "failed": true, "denied": true, "cancelled": true, "revoked": true, "timed_out": true}

func (j *janitor) clean(ctx context.Context, db *dynamodb.Client, job janitorJob) (bool, int) {
	pk := &types.AttributeValueMemberS{Value: "REQ#" + job.id}
	if !job.any {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(lc.Table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"PK": pk, "SK": &types.AttributeValueMemberS{Value: "REQUEST"}},
		})
		if err != nil || out.Item == nil {
			return out != nil && out.Item == nil, 0
		}
		st, _ := out.Item["status"].(*types.AttributeValueMemberS)
		if st == nil || !finalStatus[st.Value] {
			return false, 0
		}
		j.mu.Lock()
		j.statuses[job.id] = st.Value
		j.mu.Unlock()
	}
	// The request's items, then its audit events; whole items when the
	// trail goes to the stash.
	stash := j.keepAs != "" && trails.wants(j.keepAs)
	var keys, whole []map[string]types.AttributeValue
	for _, part := range []types.AttributeValue{pk, &types.AttributeValueMemberS{Value: eventPrefix + job.id}} {
		in := &dynamodb.QueryInput{
			TableName:                 aws.String(lc.Table),
			KeyConditionExpression:    aws.String("#pk = :pk"),
			ExpressionAttributeNames:  map[string]string{"#pk": "PK", "#sk": "SK"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": part},
			ProjectionExpression:      aws.String("#pk, #sk"),
		}
		if stash {
			in.ProjectionExpression, in.ExpressionAttributeNames = nil, map[string]string{"#pk": "PK"}
		}
		q := dynamodb.NewQueryPaginator(db, in)
		for q.HasMorePages() {
			page, err := q.NextPage(ctx)
			if err != nil {
				return true, 0
			}
			for _, it := range page.Items {
				keys = append(keys, map[string]types.AttributeValue{"PK": it["PK"], "SK": it["SK"]})
			}
			whole = append(whole, page.Items...)
		}
	}
	if tok := job.link[strings.LastIndex(job.link, "/")+1:]; tok != "" {
		sum := sha256.Sum256([]byte(tok))
		key := map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "LINK#" + hex.EncodeToString(sum[:])},
			"SK": &types.AttributeValueMemberS{Value: "LINK"},
		}
		keys = append(keys, key)
		if stash {
			if out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(lc.Table), Key: key}); err == nil && out.Item != nil {
				whole = append(whole, out.Item)
			}
		}
	}
	if stash {
		trails.add(j.keepAs, whole)
	}
	if err := deleteKeys(ctx, db, keys); err != nil {
		return true, 0
	}
	return true, len(keys)
}

// status is the final status the janitor saw for id, else what the table
// holds now.
func (j *janitor) status(ctx context.Context, id string) string {
	j.mu.Lock()
	st, ok := j.statuses[id]
	j.mu.Unlock()
	if ok {
		return st
	}
	return requestStatus(ctx, id)
}

// keepers are requests the benchmarks read again later (the gateway's
// and the handler's get and list); cleaning never deletes them. A request
// only listed keeps its request item but not its audit events, which
// nothing reads again: every transaction moto runs copies the whole
// table, so the table holds what the steps read and no more.
var keepers = struct {
	sync.Mutex
	ids map[string]keeping
}{ids: map[string]keeping{}}

type keeping int

const (
	keepRequest keeping = iota + 1 // the request's items (REQ#)
	keepAll                        // and its audit events (EVENT#)
)

func keep(id string, how keeping) {
	keepers.Lock()
	defer keepers.Unlock()
	keepers.ids[id] = max(keepers.ids[id], how)
}

func isKeeper(pk string) bool {
	keepers.Lock()
	defer keepers.Unlock()
	how := keepers.ids[requestOf(pk)]
	if strings.HasPrefix(pk, eventPrefix) {
		return how == keepAll
	}
	return how > 0
}

// trails are the items of finished requests the janitor was asked to
// keep (by kind of lifecycle), for the audit step to put back: real
// trails, written by the functions, that did not weigh on moto while the
// other steps ran.
var trails = &trailStash{byKind: map[string][][]map[string]types.AttributeValue{}}

type trailStash struct {
	mu     sync.Mutex
	byKind map[string][][]map[string]types.AttributeValue
}

func (s *trailStash) wants(kind string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byKind[kind]) < *auditTrails
}

func (s *trailStash) add(kind string, items []map[string]types.AttributeValue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byKind[kind]) < *auditTrails {
		s.byKind[kind] = append(s.byKind[kind], items)
	}
}

// take returns the stashed trails of kind and forgets them.
func (s *trailStash) take(kind string) [][]map[string]types.AttributeValue {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.byKind[kind]
	delete(s.byKind, kind)
	return out
}

// putItems writes items directly on moto (BatchWriteItem: no transaction,
// so no copy of the table per item).
func putItems(ctx context.Context, items []map[string]types.AttributeValue) error {
	db := dynamoDirect()
	for len(items) > 0 {
		n := min(25, len(items))
		reqs := make([]types.WriteRequest, 0, n)
		for _, it := range items[:n] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		items = items[n:]
		for len(reqs) > 0 {
			out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{lc.Table: reqs}})
			if err != nil {
				return fmt.Errorf("put: %w", err)
			}
			reqs = out.UnprocessedItems[lc.Table]
		}
	}
	return nil
}
