package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/jitaccess/jit/shared/access"
)

// RequestRevoke records that by asked to end the active grant now, with a
// revoke_requested event. The Hold task acts on it when it starts (if the
// API could not signal it because it had not started yet), and the revoke
// records by as the actor.
func (s *Store) RequestRevoke(ctx context.Context, r *access.Request, by string, at time.Time) error {
	id := r.ID
	ev, err := s.putEvent(ctx, access.Event{Type: access.EventRevokeRequested, Actor: by, At: at}.About(r))
	if err != nil {
		return err
	}
	mark, err := conditionalUpdate(s.table, key(requestPK(id), skRequest),
		expression.Name(attrStatus).Equal(expression.Value(string(access.Active))),
		expression.Set(expression.Name(attrRevokeBy), expression.Value(by)))
	if err != nil {
		return fmt.Errorf("request revoke of %s: build expression: %w", id, err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{ev, mark}})
	if conditionFailed(err, 1) {
		cur, gerr := s.getRequestItem(ctx, id)
		if gerr != nil {
			return gerr
		}
		return &access.ErrTransition{ID: id, From: access.Status(cur.Status), To: access.Revoked}
	}
	if err != nil {
		return fmt.Errorf("request revoke of %s: %w", id, err)
	}
	return nil
}

// SetHoldToken records the token of the workflow task that holds an active
// grant, so revoke and extend can signal it, and returns the request as
// the write left it (so the caller sees a revoke asked for before the
// hold began without reading again). Only an active request holds: for
// any other it returns *access.ErrTransition with the status it is in.
func (s *Store) SetHoldToken(ctx context.Context, id, token string) (*access.Request, error) {
	in, err := updateItem(s.table, key(requestPK(id), skRequest),
		expression.Name(attrStatus).Equal(expression.Value(string(access.Active))),
		expression.Set(expression.Name(attrHoldToken), expression.Value(token)))
	if err != nil {
		return nil, fmt.Errorf("hold %s: build expression: %w", id, err)
	}
	in.ReturnValues = types.ReturnValueAllNew
	out, err := s.db.UpdateItem(ctx, in)
	if cur, refused := refusedItem(err, 0); refused {
		if cur == nil {
			return nil, fmt.Errorf("hold %s: %w", id, access.ErrNotFound)
		}
		return nil, &access.ErrTransition{ID: id, From: access.Status(cur.Status), To: access.Active}
	}
	if err != nil {
		return nil, fmt.Errorf("hold %s: %w", id, err)
	}
	var it requestItem
	if err := unmarshalItem(out.Attributes, &it); err != nil {
		return nil, fmt.Errorf("hold %s: %w", id, err)
	}
	return it.request()
}

// HoldToken returns the token the request's Hold task waits on ("" when
// none).
func (s *Store) HoldToken(ctx context.Context, id string) (string, error) {
	it, err := s.getRequestItem(ctx, id)
	if err != nil {
		return "", err
	}
	return it.HoldToken, nil
}

// Extend moves an active request's expiry from was to until (and its
// duration to total), with an "extended" event, only if it is still
// active with that expiry: two extensions cannot both apply to the same
// window.
func (s *Store) Extend(ctx context.Context, r *access.Request, was, until time.Time, total time.Duration, by string, at time.Time) error {
	id := r.ID
	ev, err := s.putEvent(ctx, access.Event{
		Type: access.EventExtended, Actor: by, At: at,
		Detail: map[string]string{"from": formatTime(was), "to": formatTime(until), "duration": access.FormatDuration(total)},
	}.About(r))
	if err != nil {
		return err
	}
	// Conditional on the expiry it extends, so two extensions that raced
	// do not both count.
	extend, err := conditionalUpdate(s.table, key(requestPK(id), skRequest),
		expression.Name(attrStatus).Equal(expression.Value(string(access.Active))).
			And(expression.Name(attrExpiresAt).Equal(expression.Value(formatTime(was)))),
		expression.Set(expression.Name(attrExpiresAt), expression.Value(formatTime(until))).
			Set(expression.Name(attrDurationSeconds), expression.Value(int64(total/time.Second))).
			Set(expression.Name(attrUpdatedAt), expression.Value(formatTime(at))))
	if err != nil {
		return fmt.Errorf("extend %s: build expression: %w", id, err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{extend, ev}})
	if conditionFailed(err, 0) || transactionConflict(err) {
		return fmt.Errorf("extend %s: %w", id, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("extend %s: %w", id, err)
	}
	return nil
}

// ListActive lists active requests whose expiry is before cutoff, across
// the status index's shards: what the reconciler checks.
func (s *Store) ListActive(ctx context.Context, cutoff time.Time) ([]*access.Request, error) {
	var out []*access.Request
	for shard := 0; shard < shards; shard++ {
		kc := partition(attrGSI3PK, fmt.Sprintf("STATUS#%s#%d", access.Active, shard))
		p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
			TableName:                &s.table,
			IndexName:                aws.String(gsi3),
			KeyConditionExpression:   kc.KeyCondition(),
			ExpressionAttributeNames: kc.Names(), ExpressionAttributeValues: kc.Values(),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("list active: %w", err)
			}
			for _, raw := range page.Items {
				var it requestItem
				if err := unmarshalItem(raw, &it); err != nil {
					return nil, err
				}
				r, err := it.request()
				if err != nil {
					return nil, err
				}
				if r.ExpiresAt != nil && r.ExpiresAt.Before(cutoff) {
					out = append(out, r)
				}
			}
		}
	}
	return out, nil
}
