package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/jitaccess/jit/shared/access"
)

// move is one status change: the request update, conditional on the
// request being in a status that may move to To, and its audit event.
type move struct {
	id     string
	to     access.Status
	at     time.Time
	actor  string
	detail map[string]string
	// set holds extra attributes to write with the status (values as the
	// attributevalue package marshals them).
	set map[string]any
	// also holds further items that must succeed in the same transaction
	// (e.g. consuming a decision link); they come after the request update
	// and the event.
	also []types.TransactWriteItem
}

// errAlso is returned when one of move.also failed its condition.
var errAlso = errors.New("a linked item failed its condition")

// errMovedMeanwhile: the request changed status between the read and the
// write, to one the move is still allowed from; transition tries again.
var errMovedMeanwhile = errors.New("the status changed meanwhile")

// transition makes the move, retrying a few times when DynamoDB cancels it
// because another transaction touched the same items at the same moment:
// the retry re-reads the status, so the loser of a race gets
// *access.ErrTransition (or ErrLinkSpent) rather than a raw AWS error.
func (s *Store) transition(ctx context.Context, m move) error {
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		if err = s.transitionOnce(ctx, m); !transactionConflict(err) && !errors.Is(err, errMovedMeanwhile) {
			return err
		}
		time.Sleep(time.Duration(10+rand.IntN(40)) * time.Millisecond)
	}
	if errors.Is(err, errMovedMeanwhile) {
		// Still moving after every attempt: report what it is now.
		if cur, gerr := s.getRequestItem(ctx, m.id); gerr == nil {
			return &access.ErrTransition{ID: m.id, From: access.Status(cur.Status), To: m.to}
		}
	}
	return fmt.Errorf("move %s to %s: %w", m.id, m.to, ErrConflict)
}

func (s *Store) transitionOnce(ctx context.Context, m move) error {
	from := access.Sources(m.to)
	if len(from) == 0 {
		return fmt.Errorf("move %s to %s: no status leads there", m.id, m.to)
	}
	// The event records the status the request is actually leaving. The
	// condition admits several sources, so read it first; the condition
	// below still guards the write against anything changing in between.
	cur, err := s.getRequestItem(ctx, m.id)
	if err != nil {
		return err
	}
	if !access.CanMove(access.Status(cur.Status), m.to) {
		return &access.ErrTransition{ID: m.id, From: access.Status(cur.Status), To: m.to}
	}
	update := expression.Set(expression.Name(attrStatus), expression.Value(string(m.to))).
		Set(expression.Name(attrUpdatedAt), expression.Value(formatTime(m.at))).
		Set(expression.Name(attrGSI3PK), expression.Value(statusKey(string(m.to), m.id)))
	if m.to.Terminal() {
		update = update.Set(expression.Name(attrEndedAt), expression.Value(formatTime(m.at)))
	}
	for _, attr := range slices.Sorted(maps.Keys(m.set)) {
		update = update.Set(expression.Name(attr), expression.Value(m.set[attr]))
	}
	sources := make([]expression.OperandBuilder, len(from))
	for j, f := range from {
		sources[j] = expression.Value(string(f))
	}
	cond := expression.AttributeExists(expression.Name(attrPK)).
		And(expression.Name(attrStatus).Equal(expression.Value(cur.Status))).
		And(expression.Name(attrStatus).In(sources[0], sources[1:]...))
	expr, err := expression.NewBuilder().WithCondition(cond).WithUpdate(update).Build()
	if err != nil {
		return fmt.Errorf("move %s to %s: build expression: %w", m.id, m.to, err)
	}
	ev, err := s.putEvent(ctx, access.Event{
		RequestID: m.id, Type: string(m.to), Actor: m.actor, At: m.at,
		Resource: cur.Resource, Requester: cur.Requester,
		From: access.Status(cur.Status), To: m.to, Detail: m.detail,
	})
	if err != nil {
		return err
	}
	write := types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: key(requestPK(m.id), skRequest),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}
	items := append([]types.TransactWriteItem{write, ev}, m.also...)
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return nil
	}
	if conditionFailed(err, 0) {
		now, gerr := s.getRequestItem(ctx, m.id)
		if gerr != nil {
			return gerr
		}
		if access.CanMove(access.Status(now.Status), m.to) {
			// Another move got there first, but this one is still allowed
			// from where it went (a cancel racing an approval): try again
			// from the new status.
			return fmt.Errorf("move %s to %s: %w", m.id, m.to, errMovedMeanwhile)
		}
		return &access.ErrTransition{ID: m.id, From: access.Status(now.Status), To: m.to}
	}
	for j := range m.also {
		if conditionFailed(err, 2+j) {
			return fmt.Errorf("move %s to %s: %w", m.id, m.to, errAlso)
		}
	}
	return fmt.Errorf("move %s to %s: %w", m.id, m.to, err)
}

// Activate records a successful grant: approved → active, with the window.
func (s *Store) Activate(ctx context.Context, id string, grantedAt, expiresAt time.Time, detail map[string]string) error {
	return s.transition(ctx, move{
		id: id, to: access.Active, at: grantedAt, actor: access.System, detail: detail,
		set: map[string]any{
			attrGrantedAt: formatTime(grantedAt),
			attrExpiresAt: formatTime(expiresAt),
		},
	})
}

// End moves a request to a terminal status (expired, timed_out, failed,
// revoked, cancelled) on behalf of actor.
func (s *Store) End(ctx context.Context, id string, to access.Status, at time.Time, actor string, detail map[string]string) error {
	if !to.Terminal() {
		return fmt.Errorf("end %s: %s is not a final status", id, to)
	}
	return s.transition(ctx, move{id: id, to: to, at: at, actor: actor, detail: detail})
}

// Link is a decision link as stored: the hash of its token and what the
// token may decide.
type Link struct {
	Hash        string
	RequestID   string
	Level       int
	Approver    string
	Channel     string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	UsedAt      *time.Time
	UsedOutcome access.Status
	// OpenedAt is when the link's page was first loaded.
	OpenedAt *time.Time
}

// RequestApproval records that a level's approvers were asked: it stores
// the workflow's task token on the pending request, the hashes of the
// links sent, and an approval_requested event. The request, the event and
// as many links as fit go in one transaction, which decides; a level with
// more links than a transaction holds (DynamoDB takes 100 actions) has
// the others written first, in transactions of their own. Those are safe
// to leave behind if the last transaction fails: only hashes are stored,
// and the tokens they hash were never sent.
func (s *Store) RequestApproval(ctx context.Context, r *access.Request, level int, taskToken string, links []Link, at time.Time) error {
	id := r.ID
	update, err := conditionalUpdate(s.table, key(requestPK(id), skRequest),
		expression.Name(attrStatus).Equal(expression.Value(string(access.Pending))),
		expression.Set(expression.Name(attrTaskToken), expression.Value(taskToken)).
			Set(expression.Name(attrLevel), expression.Value(level)).
			Set(expression.Name(attrUpdatedAt), expression.Value(formatTime(at))))
	if err != nil {
		return fmt.Errorf("request approval of %s: build expression: %w", id, err)
	}
	puts := make([]types.TransactWriteItem, 0, len(links))
	approvers := make([]string, 0, len(links))
	for _, l := range links {
		it, err := attributevalue.MarshalMap(linkItem{
			PK: linkPK(l.Hash), SK: skLink,
			GSI1PK: approverKey(l.Approver), GSI1SK: formatTime(l.CreatedAt) + "#" + l.RequestID,
			Kind: kindLink, RequestID: l.RequestID, Level: l.Level, Approver: l.Approver, Channel: l.Channel,
			CreatedAt: formatTime(l.CreatedAt), ExpiresAt: formatTime(l.ExpiresAt),
			// Keep used and expired links a week for the audit trail.
			TTL: l.ExpiresAt.Add(7 * 24 * time.Hour).Unix(),
		})
		if err != nil {
			return fmt.Errorf("encode link for %s: %w", id, err)
		}
		puts = append(puts, createPut(s.table, it))
		approvers = append(approvers, l.Approver+" ("+l.Channel+")")
	}
	ev, err := s.putEvent(ctx, access.Event{
		Type: access.EventApprovalRequested, Actor: access.System, At: at,
		Detail: map[string]string{"level": fmt.Sprint(level), "sent_to": strings.Join(approvers, ", ")},
	}.About(r))
	if err != nil {
		return err
	}
	// The last transaction holds the update, the event and the last links.
	ahead := max(0, len(puts)-(maxTransactItems-2))
	for start := 0; start < ahead; start += maxTransactItems {
		chunk := puts[start:min(start+maxTransactItems, ahead)]
		if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: chunk}); err != nil {
			return fmt.Errorf("request approval for %s: links %d to %d of %d: %w", id, start+1, start+len(chunk), len(puts), err)
		}
	}
	items := append(append([]types.TransactWriteItem{update}, puts[ahead:]...), ev)
	if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		if conditionFailed(err, 0) {
			cur, gerr := s.getRequestItem(ctx, id)
			if gerr != nil {
				return gerr
			}
			return &access.ErrTransition{ID: id, From: access.Status(cur.Status), To: access.Pending}
		}
		return fmt.Errorf("request approval for %s: %w", id, err)
	}
	return nil
}

// GetLink reads a decision link by the hash of its token.
func (s *Store) GetLink(ctx context.Context, hash string) (*Link, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(linkPK(hash), skLink), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get link: %w", err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("link: %w", access.ErrNotFound)
	}
	var it linkItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return nil, fmt.Errorf("decode link: %w", err)
	}
	l := &Link{Hash: hash, RequestID: it.RequestID, Level: it.Level, Approver: it.Approver, Channel: it.Channel, UsedOutcome: access.Status(it.UsedOutcome)}
	if l.CreatedAt, err = parseTime(it.CreatedAt); err != nil {
		return nil, fmt.Errorf("link created_at: %w", err)
	}
	if l.ExpiresAt, err = parseTime(it.ExpiresAt); err != nil {
		return nil, fmt.Errorf("link expires_at: %w", err)
	}
	if it.UsedAt != "" {
		t, err := parseTime(it.UsedAt)
		if err != nil {
			return nil, fmt.Errorf("link used_at: %w", err)
		}
		l.UsedAt = &t
	}
	if it.OpenedAt != "" {
		t, err := parseTime(it.OpenedAt)
		if err != nil {
			return nil, fmt.Errorf("link opened_at: %w", err)
		}
		l.OpenedAt = &t
	}
	return l, nil
}

// LinkOpened records the first load of a live link's page: it marks the
// link opened and appends ev (link_opened) in one write, only if the
// link was never opened, so reloads and scanners fetching it again add
// nothing to the trail.
func (s *Store) LinkOpened(ctx context.Context, l *Link, ev access.Event) error {
	put, err := s.putEvent(ctx, ev)
	if err != nil {
		return err
	}
	cond := expression.AttributeExists(expression.Name(attrPK)).
		And(expression.AttributeNotExists(expression.Name(attrOpenedAt)))
	expr, err := expression.NewBuilder().WithCondition(cond).
		WithUpdate(expression.Set(expression.Name(attrOpenedAt), expression.Value(formatTime(ev.At)))).Build()
	if err != nil {
		return fmt.Errorf("link opened: build expression: %w", err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: &s.table, Key: key(linkPK(l.Hash), skLink),
			UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		}},
		put,
	}})
	if conditionFailed(err, 0) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("link opened %s: %w", l.RequestID, err)
	}
	return nil
}
