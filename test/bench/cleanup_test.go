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
// and its events (REQ#), decision links (LINK#) and idempotency keys (IDEM#).
func disposable(pk string) bool {
	return strings.HasPrefix(pk, "REQ#") || strings.HasPrefix(pk, "LINK#") || strings.HasPrefix(pk, "IDEM#")
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

func (j *janitor) run(ctx context.Context) {
	db := dynamoDirect()
	var later []janitorJob
	for {
		var job janitorJob
		var ok bool
		if len(later) > 0 && !time.Now().Before(later[0].due) {
			job, later, ok = later[0], later[1:], true
		} else {
			select {
			case job, ok = <-j.ch:
				if !ok {
					// Closed: finish what is due soon, drop the rest.
					for _, l := range later {
						if time.Until(l.due) < 5*time.Second {
							sleepCtx(ctx, time.Until(l.due))
							if ended, n := j.clean(ctx, db, l); ended {
								j.mu.Lock()
								j.deleted += n
								j.mu.Unlock()
							}
						}
					}
					return
				}
			case <-time.After(100 * time.Millisecond):
				continue
			case <-ctx.Done():
				return
			}
		}
		if time.Now().Before(job.due) {
			later = insertByDue(later, job)
			continue
		}
		ended, n := j.clean(ctx, db, job)
		if !ended {
			job.due = time.Now().Add(time.Second)
			later = insertByDue(later, job)
			continue
		}
		j.mu.Lock()
		j.deleted += n
		j.mu.Unlock()
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
	var keys []map[string]types.AttributeValue
	q := dynamodb.NewQueryPaginator(db, &dynamodb.QueryInput{
		TableName:                 aws.String(lc.Table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": "PK", "#sk": "SK"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": pk},
		ProjectionExpression:      aws.String("#pk, #sk"),
	})
	for q.HasMorePages() {
		page, err := q.NextPage(ctx)
		if err != nil {
			return true, 0
		}
		keys = append(keys, page.Items...)
	}
	if tok := job.link[strings.LastIndex(job.link, "/")+1:]; tok != "" {
		sum := sha256.Sum256([]byte(tok))
		keys = append(keys, map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "LINK#" + hex.EncodeToString(sum[:])},
			"SK": &types.AttributeValueMemberS{Value: "LINK"},
		})
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
// and the handler's get and list); cleaning never deletes them.
var keepers = struct {
	sync.Mutex
	ids map[string]bool
}{ids: map[string]bool{}}

func keep(id string) {
	keepers.Lock()
	defer keepers.Unlock()
	keepers.ids[id] = true
}

func isKeeper(pk string) bool {
	keepers.Lock()
	defer keepers.Unlock()
	return keepers.ids[strings.TrimPrefix(pk, "REQ#")]
}
