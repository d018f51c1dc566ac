package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/jitaccess/jit/shared/access"
)

// BatchWriter is the DynamoDB call Seed makes.
type BatchWriter interface {
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// EventItem is ev as the store writes it, keys and audit index keys
// included.
func EventItem(ev access.Event) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMap(newEventItem(ev))
}

// RequestItem is r as the store writes it, index keys included.
func RequestItem(r *access.Request) (map[string]types.AttributeValue, error) {
	it := newRequestItem(r)
	// What newRequestItem leaves to the writes that follow creation.
	if r.GrantedAt != nil {
		it.GrantedAt = formatTime(*r.GrantedAt)
	}
	if r.ExpiresAt != nil {
		it.ExpiresAt = formatTime(*r.ExpiresAt)
	}
	if r.EndedAt != nil {
		it.EndedAt = formatTime(*r.EndedAt)
	}
	it.RevokeRequestedBy = r.RevokeRequestedBy
	return attributevalue.MarshalMap(it)
}

// Seed writes a prepared trail, requests and their events, into table in
// bulk (25 items per BatchWriteItem, unprocessed items resent): how
// benchmarks and load tests fill a table with a large history
// (cmd/gentrail). It is not how a request changes: its writes have no
// conditions, so it is only for a table no function is using. The
// functions never call it, and the template's policies deny them
// BatchWriteItem on events.
func Seed(ctx context.Context, db BatchWriter, table string, reqs []*access.Request, evs []access.Event) error {
	items := make([]map[string]types.AttributeValue, 0, len(reqs)+len(evs))
	for _, r := range reqs {
		it, err := RequestItem(r)
		if err != nil {
			return fmt.Errorf("seed request %s: %w", r.ID, err)
		}
		items = append(items, it)
	}
	for _, ev := range evs {
		it, err := EventItem(ev)
		if err != nil {
			return fmt.Errorf("seed event %s of %s: %w", ev.Type, ev.RequestID, err)
		}
		items = append(items, it)
	}
	for i := 0; i < len(items); i += 25 {
		batch := make([]types.WriteRequest, 0, 25)
		for _, it := range items[i:min(i+25, len(items))] {
			batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		for wait := 50 * time.Millisecond; len(batch) > 0; wait = min(2*wait, 2*time.Second) {
			out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: batch}})
			if err != nil {
				return fmt.Errorf("seed: %w", err)
			}
			if batch = out.UnprocessedItems[table]; len(batch) > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(wait):
				}
			}
		}
	}
	return nil
}
