package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/jitaccess/jit/shared/access"
)

// ErrLinkSpent is returned when a link was used, or expired, before the
// decision could be committed.
var ErrLinkSpent = errors.New("decision link already used or expired")

// ErrLinkStale is returned for a link of a level the request has left.
var ErrLinkStale = access.ErrStaleLevel

// ErrAlreadyApproved is returned when the approver already approved at
// this level through another link (another channel, say): one person
// counts once.
var ErrAlreadyApproved = errors.New("approver already approved at this level")

// Decision is what one committed decision did (access.Decide), with the
// token of the workflow task that waited on the level: it must be
// completed when the decision Resumes.
type Decision struct {
	access.Decision
	TaskToken string
}

// Decide commits an approver's decision through a link, atomically: what
// it does to the request is access.Decide's to say; the store marks the
// link used (only if unused and unexpired), counts the approval once per
// approver and level, and writes the outcome with its event. Concurrent decisions are serialized by a
// condition on the count the decision read, so a quorum is reached exactly
// once.
//
// seen is the request as the caller read it (with its task token), or nil
// to have Decide read it. The decision is made on what was seen; when
// another decision got there first, the refusal carries the request as it
// is now, and the decision is made again on that.
func (s *Store) Decide(ctx context.Context, l *Link, seen *access.Request, outcome access.Status, at time.Time, comment string) (*Decision, error) {
	if outcome != access.Approved && outcome != access.Denied {
		return nil, fmt.Errorf("decide %s: %s is not a decision", l.RequestID, outcome)
	}
	if seen != nil && seen.ID != l.RequestID {
		return nil, fmt.Errorf("decide: link of %s given request %s", l.RequestID, seen.ID)
	}
	r, stored := seen, false
	for attempt := 0; attempt < 8; attempt++ {
		if r == nil {
			it, err := s.getRequestItem(ctx, l.RequestID)
			if err != nil {
				return nil, err
			}
			if r, err = it.request(); err != nil {
				return nil, err
			}
			stored = true
		}
		if _, err := access.Decide(r, l.Approver, l.Level, outcome, l.Channel, comment, at); err != nil && !stored {
			// Refused on the caller's read, which may be out of date:
			// refuse only on the stored request.
			r = nil
			continue
		}
		d, err := s.decideOnce(ctx, l, r, outcome, at, comment)
		var raced *racedError
		if !errors.As(err, &raced) && !transactionConflict(err) {
			return d, err
		}
		r = nil
		if raced != nil && raced.now != nil {
			r, stored = raced.now, true
		}
		time.Sleep(time.Duration(5+attempt*10) * time.Millisecond)
	}
	return nil, fmt.Errorf("decide %s: %w", l.RequestID, ErrConflict)
}

// racedError means another decision changed the request between the read
// and the write: now is the request as it is (nil if unknown, and then it
// is read again).
type racedError struct{ now *access.Request }

func (e *racedError) Error() string { return "raced" }

func (s *Store) decideOnce(ctx context.Context, l *Link, r *access.Request, outcome access.Status, at time.Time, comment string) (*Decision, error) {
	decided, err := access.Decide(r, l.Approver, l.Level, outcome, l.Channel, comment, at)
	if err != nil {
		return nil, err
	}
	d := &Decision{Decision: *decided, TaskToken: r.TaskToken}
	// The condition pins what this decision read: still pending, same
	// level, same count. Anything else raced us, and we read again.
	cond := expression.Name(attrStatus).Equal(expression.Value(string(access.Pending))).
		And(expression.Name(attrLevel).Equal(expression.Value(r.Level))).
		And(expression.Name(attrApprovals).Equal(expression.Value(r.Approvals)))
	now := formatTime(at)
	update := expression.Set(expression.Name(attrUpdatedAt), expression.Value(now))
	// decide records the final outcome to on the request.
	decide := func(to access.Status) {
		update = update.
			Set(expression.Name(attrStatus), expression.Value(string(to))).
			Set(expression.Name(attrGSI3PK), expression.Value(statusKey(string(to), r.ID))).
			Set(expression.Name(attrDecidedBy), expression.Value(l.Approver)).
			Set(expression.Name(attrDecidedAt), expression.Value(now)).
			Remove(expression.Name(attrTaskToken))
	}
	var extra []types.TransactWriteItem
	switch {
	case d.Outcome == access.Denied:
		decide(access.Denied)
		update = update.Set(expression.Name(attrEndedAt), expression.Value(now))
	case d.NextLevel != nil:
		// The level is done: the next one starts from no approvals,
		// and this level's count is only in the event.
		update = update.
			Set(expression.Name(attrApprovals), expression.Value(0)).
			Set(expression.Name(attrLevel), expression.Value(*d.NextLevel)).
			Set(expression.Name(attrEscalated), expression.Value(false)).
			Remove(expression.Name(attrTaskToken))
	case d.Outcome == access.Approved:
		update = update.Set(expression.Name(attrApprovals), expression.Value(d.Approvals))
		decide(access.Approved)
	default:
		update = update.Set(expression.Name(attrApprovals), expression.Value(d.Approvals))
	}
	if outcome == access.Approved {
		// One approval per person per level, whichever link they use.
		marker, err := attributevalue.MarshalMap(map[string]any{
			attrPK: requestPK(r.ID), attrSK: approvalSK(r.Level, l.Approver), "kind": "approval",
			"approver": l.Approver, "level": r.Level, "at": formatTime(at),
		})
		if err != nil {
			return nil, err
		}
		extra = append(extra, createPut(s.table, marker))
	}
	events := []access.Event{d.Event}
	// The builder names every placeholder it uses and only those:
	// DynamoDB refuses a request with one defined but unused.
	expr, err := expression.NewBuilder().WithCondition(cond).WithUpdate(update).Build()
	if err != nil {
		return nil, fmt.Errorf("decide %s: build expression: %w", r.ID, err)
	}
	consume, err := s.consumeLink(l, outcome, at)
	if err != nil {
		return nil, fmt.Errorf("decide %s: build expression: %w", r.ID, err)
	}
	items := []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: &s.table, Key: key(requestPK(r.ID), skRequest),
			UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		consume,
	}
	items = append(items, extra...)
	for _, ev := range events {
		put, err := s.putEvent(ctx, ev)
		if err != nil {
			return nil, err
		}
		items = append(items, put)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	switch {
	case err == nil:
		return d, nil
	case conditionFailed(err, 0):
		raced := &racedError{}
		if cur, ok := refusedItem(err, 0); ok && cur != nil {
			if now, err := cur.request(); err == nil {
				raced.now = now
			}
		} else if ok {
			return nil, fmt.Errorf("request %s: %w", r.ID, access.ErrNotFound)
		}
		return nil, raced
	case conditionFailed(err, 1):
		return nil, fmt.Errorf("decide %s: %w", r.ID, ErrLinkSpent)
	case len(extra) > 0 && conditionFailed(err, 2):
		return nil, fmt.Errorf("decide %s: %w", r.ID, ErrAlreadyApproved)
	}
	return nil, fmt.Errorf("decide %s: %w", r.ID, err)
}

// consumeLink marks the link used, only if it is unused, unexpired and
// bound to the request.
func (s *Store) consumeLink(l *Link, outcome access.Status, at time.Time) (types.TransactWriteItem, error) {
	now := expression.Value(formatTime(at))
	usable := expression.AttributeExists(expression.Name(attrPK)).
		And(expression.AttributeNotExists(expression.Name(attrUsedAt))).
		And(expression.Name(attrExpiresAt).GreaterThan(now)).
		And(expression.Name(attrRequestID).Equal(expression.Value(l.RequestID)))
	use := expression.Set(expression.Name(attrUsedAt), now).
		Set(expression.Name(attrUsedBy), expression.Value(string(outcome)))
	return conditionalUpdate(s.table, key(linkPK(l.Hash), skLink), usable, use)
}

// MoveOn applies a level timeout's step: escalate (ask the level's
// escalation approvers) or move to the next level. It is conditional on
// the request still waiting at level, so a decision that raced the timeout
// wins; ErrTransition or errRaced-like conflicts are returned as
// *access.ErrTransition or ErrConflict.
func (s *Store) MoveOn(ctx context.Context, r *access.Request, level int, step access.TimeoutStep, at time.Time) error {
	id := r.ID
	cond := expression.Name(attrStatus).Equal(expression.Value(string(access.Pending))).
		And(expression.Name(attrLevel).Equal(expression.Value(level)))
	update := expression.Set(expression.Name(attrUpdatedAt), expression.Value(formatTime(at))).
		Set(expression.Name(attrEscalated), expression.Value(step.Action == access.StepEscalate)).
		Remove(expression.Name(attrTaskToken))
	var typ string
	detail := map[string]string{"level": fmt.Sprint(level)}
	switch step.Action {
	case access.StepEscalate:
		cond = cond.And(expression.Name(attrEscalated).Equal(expression.Value(false)))
		typ = access.EventEscalated
	case access.StepNext:
		update = update.
			Set(expression.Name(attrLevel), expression.Value(step.Level)).
			Set(expression.Name(attrApprovals), expression.Value(0))
		typ = access.EventLevelTimedOut
		detail["next_level"] = fmt.Sprint(step.Level)
	default:
		return fmt.Errorf("move on %s: %q is not a step that keeps the request pending", id, step.Action)
	}
	expr, err := expression.NewBuilder().WithCondition(cond).WithUpdate(update).Build()
	if err != nil {
		return fmt.Errorf("move on %s: build expression: %w", id, err)
	}
	ev, err := s.putEvent(ctx, access.Event{Type: typ, Actor: access.System, At: at, Detail: detail}.About(r))
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: &s.table, Key: key(requestPK(id), skRequest),
			UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		}},
		ev,
	}})
	if conditionFailed(err, 0) || transactionConflict(err) {
		return fmt.Errorf("move on %s: %w", id, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("move on %s: %w", id, err)
	}
	return nil
}

// Record appends an event that changes no status (e.g. break-glass
// notifications sent).
func (s *Store) Record(ctx context.Context, ev access.Event) error {
	put, err := s.putEvent(ctx, ev)
	if err != nil {
		return err
	}
	if _, err := s.db.PutItem(ctx, createItem(s.table, put.Put.Item)); err != nil {
		return fmt.Errorf("record %s for %s: %w", ev.Type, ev.RequestID, err)
	}
	return nil
}
