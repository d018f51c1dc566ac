package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ErrLockBusy is returned when a lease could not be taken before the
// context ended.
var ErrLockBusy = errors.New("lease held by another writer")

// ErrLeaseLost is returned by a lease's Check and Save once its holder no
// longer has it: it ran out and another writer took it.
var ErrLeaseLost = errors.New("lease lost to another writer")

// Attributes of a lease item besides the owner and until it shares with
// assignment leases.
const (
	attrLeaseToken = "lease_token"
	attrRoleGrants = "role_grants"
	attrRoleDenies = "role_denies"
	attrRoleKnown  = "role_known"
)

// leaseMargin is added to the caller's deadline: a lease outlives the
// function that took it (Lambda stops a function at its timeout), so a
// lease that ran out belongs to a holder that no longer runs. It also
// covers clock differences between functions.
const leaseMargin = 10 * time.Second

// Lease is one holder's hold on a named lease item. Token is its fencing
// token: every Lock of the name gets a larger one, and Check and Save
// succeed only while the item still carries this holder's owner and
// token and has not run out.
//
// The item outlives its leases: it also keeps the state the holder edits
// (RolePolicies), so every holder reads what the previous one wrote.
type Lease struct {
	s     *Store
	name  string
	owner string
	token int64
	until time.Time
}

// Token is the lease's fencing token.
func (l *Lease) Token() int64 { return l.token }

// Until is when the lease runs out.
func (l *Lease) Until() time.Time { return l.until }

// Lock takes the lease named name, waiting (with jitter) while another
// holder has it. It lasts ttl, or until the caller's deadline plus a
// margin if that is later, so that it outlives the caller. A holder that
// dies loses the lease when it runs out. Release gives it up only if it
// is still ours.
func (s *Store) Lock(ctx context.Context, name string, ttl time.Duration) (*Lease, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	owner := hex.EncodeToString(b[:])
	deadline, hasDeadline := ctx.Deadline()
	if !hasDeadline {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
	}
	for {
		now := time.Now()
		until := now.Add(ttl)
		if hasDeadline && deadline.Add(leaseMargin).After(until) {
			until = deadline.Add(leaseMargin)
		}
		// The item keeps the state edited under the lease, so it must not
		// expire: an expiry set by an older version is removed, as is that
		// version's lease (owner, until), which is respected until it runs
		// out.
		free := func(attr string) expression.ConditionBuilder {
			return expression.AttributeNotExists(expression.Name(attr)).
				Or(expression.Name(attr).LessThan(expression.Value(now.UnixMilli())))
		}
		take := expression.Set(expression.Name(attrLeaseOwner), expression.Value(owner)).
			Set(expression.Name(attrLeaseUntil), expression.Value(until.UnixMilli())).
			Add(expression.Name(attrLeaseToken), expression.Value(1)).
			Remove(expression.Name(attrTTL)).
			Remove(expression.Name(attrOldLeaseOwner)).
			Remove(expression.Name(attrOldLeaseUntil))
		expr, err := expression.NewBuilder().WithCondition(free(attrLeaseUntil).And(free(attrOldLeaseUntil))).WithUpdate(take).Build()
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Update: &types.Update{
			TableName: &s.table, Key: key(leasePK(name), skLease),
			UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		}}}})
		if err == nil {
			token, err := s.leaseToken(ctx, name, owner)
			if err != nil {
				s.release(name, owner)
				return nil, err
			}
			return &Lease{s: s, name: name, owner: owner, token: token, until: until}, nil
		}
		if !conditionFailed(err, 0) && !transactionConflict(err) {
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("lock %s: %w", name, ErrLockBusy)
		case <-time.After(time.Duration(20+mrand.IntN(80)) * time.Millisecond):
		}
	}
}

// An older version kept its lease in "owner" and "until": a lease it
// holds is respected until it runs out, then removed.
const (
	attrOldLeaseOwner = "owner"
	attrOldLeaseUntil = "until"
)

// leaseToken reads the token our Lock wrote (TransactWriteItems returns
// no attributes).
func (s *Store) leaseToken(ctx context.Context, name, owner string) (int64, error) {
	it, err := s.leaseItem(ctx, name)
	if err != nil {
		return 0, err
	}
	if it.Owner != owner {
		return 0, fmt.Errorf("lock %s: %w", name, ErrLeaseLost)
	}
	return it.Token, nil
}

// leaseItem is the stored lease and the state kept with it.
type leaseItem struct {
	Owner  string `dynamodbav:"lease_owner"`
	Until  int64  `dynamodbav:"lease_until"`
	Token  int64  `dynamodbav:"lease_token"`
	Grants string `dynamodbav:"role_grants"`
	Denies string `dynamodbav:"role_denies"`
	Known  bool   `dynamodbav:"role_known"`
}

func (s *Store) leaseItem(ctx context.Context, name string) (*leaseItem, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(leasePK(name), skLease), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("read lease %s: %w", name, err)
	}
	var it leaseItem
	if out.Item != nil {
		if err := unmarshalItem(out.Item, &it); err != nil {
			return nil, fmt.Errorf("read lease %s: %w", name, err)
		}
	}
	return &it, nil
}

// held is the condition that the lease is still this holder's and has
// not run out.
func (l *Lease) held() expression.ConditionBuilder {
	return expression.Name(attrLeaseOwner).Equal(expression.Value(l.owner)).
		And(expression.Name(attrLeaseToken).Equal(expression.Value(l.token))).
		And(expression.Name(attrLeaseUntil).GreaterThan(expression.Value(time.Now().UnixMilli())))
}

// Check is a conditional check that the lease is still ours, made right
// before a write the lease protects (and after it, to learn whether
// another holder may have written meanwhile). ErrLeaseLost if not.
func (l *Lease) Check(ctx context.Context) error {
	expr, err := expression.NewBuilder().WithCondition(l.held()).Build()
	if err != nil {
		return fmt.Errorf("check lease %s: %w", l.name, err)
	}
	_, err = l.s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{ConditionCheck: &types.ConditionCheck{
		TableName: &l.s.table, Key: key(leasePK(l.name), skLease),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}}}})
	if conditionFailed(err, 0) {
		return fmt.Errorf("lease %s: %w", l.name, ErrLeaseLost)
	}
	if err != nil {
		return fmt.Errorf("check lease %s: %w", l.name, err)
	}
	return nil
}

// Release gives the lease up if it is still ours, keeping the state
// stored with it.
func (l *Lease) Release() { l.s.release(l.name, l.owner) }

func (s *Store) release(name, owner string) {
	// A fresh context: release even if the caller's ended.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	expr, err := expression.NewBuilder().
		WithCondition(expression.Name(attrLeaseOwner).Equal(expression.Value(owner))).
		WithUpdate(expression.Remove(expression.Name(attrLeaseOwner)).Remove(expression.Name(attrLeaseUntil))).Build()
	if err != nil {
		return
	}
	_, _ = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Update: &types.Update{
		TableName: &s.table, Key: key(leasePK(name), skLease),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}}}})
}
