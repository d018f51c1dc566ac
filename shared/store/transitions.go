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
// request still being in the status its caller read, and its audit event.
type move struct {
	// seen is the request as the caller read it: the status the move
	// leaves (the write's condition) and the resource and requester its
	// event names. The move reads nothing itself.
	seen   *access.Request
	to     access.Status
	at     time.Time
	actor  string
	detail map[string]string
	// set holds extra attributes to write with the status (values as the
	// attributevalue package marshals them).
	set map[string]any
	// release, when set, is a role lease the same write gives up: the
	// outcome of the edit it protected is recorded only while the lease is
	// still its holder's (ErrLeaseLost otherwise, and nothing is written).
	release *Lease
}

// transition makes the move from the status the caller read. When
// DynamoDB refuses it, the refusal carries the item as it is now
// (ReturnValuesOnConditionCheckFailure), so the status it moved to is
// known without a read: if the move is still allowed from there (a cancel
// racing an approval), it is made from there; otherwise the caller gets
// *access.ErrTransition. A transaction cancelled because another touched
// the same items at the same moment is tried again as it was. Only a
// caller whose read does not allow the move at all costs a read: it may
// be out of date.
func (s *Store) transition(ctx context.Context, m move) error {
	id := m.seen.ID
	if len(access.Sources(m.to)) == 0 {
		return fmt.Errorf("move %s to %s: no status leads there", id, m.to)
	}
	from := m.seen.Status
	if !access.CanMove(from, m.to) {
		cur, err := s.getRequestItem(ctx, id)
		if err != nil {
			return err
		}
		from = access.Status(cur.Status)
	}
	for attempt := 0; attempt < 4; attempt++ {
		if !access.CanMove(from, m.to) {
			return &access.ErrTransition{ID: id, From: from, To: m.to}
		}
		err := s.transitionFrom(ctx, m, from)
		if err == nil {
			return nil
		}
		if m.release != nil && conditionFailed(err, 2) {
			return fmt.Errorf("move %s to %s: lease %s: %w", id, m.to, m.release.name, ErrLeaseLost)
		}
		if now, ok := refusedItem(err, 0); ok {
			if now == nil {
				return fmt.Errorf("request %s: %w", id, access.ErrNotFound)
			}
			from = access.Status(now.Status)
			continue
		}
		if !transactionConflict(err) {
			return err
		}
		time.Sleep(time.Duration(10+rand.IntN(40)) * time.Millisecond)
	}
	return fmt.Errorf("move %s to %s: %w", id, m.to, ErrConflict)
}

// transitionFrom is one attempt: the request update, conditional on the
// status being from, and the event recording that status left.
func (s *Store) transitionFrom(ctx context.Context, m move, from access.Status) error {
	id := m.seen.ID
	update := expression.Set(expression.Name(attrStatus), expression.Value(string(m.to))).
		Set(expression.Name(attrUpdatedAt), expression.Value(formatTime(m.at))).
		Set(expression.Name(attrGSI3PK), expression.Value(statusKey(string(m.to), id)))
	if m.to.Terminal() {
		update = update.Set(expression.Name(attrEndedAt), expression.Value(formatTime(m.at)))
	}
	for _, attr := range slices.Sorted(maps.Keys(m.set)) {
		update = update.Set(expression.Name(attr), expression.Value(m.set[attr]))
	}
	write, err := conditionalUpdate(s.table, key(requestPK(id), skRequest),
		expression.Name(attrStatus).Equal(expression.Value(string(from))), update)
	if err != nil {
		return fmt.Errorf("move %s to %s: build expression: %w", id, m.to, err)
	}
	write.Update.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	ev, err := s.putEvent(ctx, access.Event{
		Type: string(m.to), Actor: m.actor, At: m.at,
		From: from, To: m.to, Detail: m.detail,
	}.About(m.seen))
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{write, ev}
	if m.release != nil {
		rel, err := m.release.releaseItem()
		if err != nil {
			return fmt.Errorf("move %s to %s: %w", id, m.to, err)
		}
		items = append(items, rel)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err != nil && !conditionFailed(err, 0) && !transactionConflict(err) {
		return fmt.Errorf("move %s to %s: %w", id, m.to, err)
	}
	return err
}

// refusedItem returns, for a write refused because the item at index i
// of its transaction (or the single item of a plain write) failed its
// condition, the item as it was: the write asked for it
// (ReturnValuesOnConditionCheckFailure ALL_OLD), and DynamoDB leaves it
// out only when there is no item (it is nil then). ok is false for any
// other error.
func refusedItem(err error, i int) (it *requestItem, ok bool) {
	if !conditionFailed(err, i) {
		return nil, false
	}
	var raw map[string]types.AttributeValue
	var tce *types.TransactionCanceledException
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &tce):
		raw = tce.CancellationReasons[i].Item
	case errors.As(err, &ccf):
		raw = ccf.Item
	}
	if raw == nil {
		return nil, true
	}
	var cur requestItem
	if attributevalue.UnmarshalMap(raw, &cur) != nil {
		return nil, false
	}
	return &cur, true
}

// Activate records a successful grant of r (read as approved): active,
// with the window.
func (s *Store) Activate(ctx context.Context, r *access.Request, grantedAt, expiresAt time.Time, detail map[string]string) error {
	return s.ActivateUnder(ctx, nil, r, grantedAt, expiresAt, detail)
}

// ActivateUnder is Activate for a grant applied under lease (a role's),
// which the same write gives up: the grant is recorded only while the
// lease is still its holder's, ErrLeaseLost otherwise (nothing is
// written then, and the lease is left as it is). A nil lease is Activate.
func (s *Store) ActivateUnder(ctx context.Context, lease *Lease, r *access.Request, grantedAt, expiresAt time.Time, detail map[string]string) error {
	return s.transition(ctx, move{
		seen: r, to: access.Active, at: grantedAt, actor: access.System, detail: detail,
		set: map[string]any{
			attrGrantedAt: formatTime(grantedAt),
			attrExpiresAt: formatTime(expiresAt),
		},
		release: lease,
	})
}

// End moves r to a terminal status (expired, timed_out, failed, revoked,
// cancelled) on behalf of actor, from the status r was read in (or the
// one it moved to meanwhile, if the end is allowed from there too).
func (s *Store) End(ctx context.Context, r *access.Request, to access.Status, at time.Time, actor string, detail map[string]string) error {
	return s.EndUnder(ctx, nil, r, to, at, actor, detail)
}

// EndUnder is End for access removed under lease, which the same write
// gives up, as in ActivateUnder.
func (s *Store) EndUnder(ctx context.Context, lease *Lease, r *access.Request, to access.Status, at time.Time, actor string, detail map[string]string) error {
	if !to.Terminal() {
		return fmt.Errorf("end %s: %s is not a final status", r.ID, to)
	}
	return s.transition(ctx, move{seen: r, to: to, at: at, actor: actor, detail: detail, release: lease})
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
