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
	// state is the item's RolePolicies as the Lock found them: while the
	// lease is ours, nobody else writes them.
	state RolePolicies
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
		// The write returns the item as it left it: the token it drew
		// and the state kept with the lease, without a read.
		out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &s.table, Key: key(leasePK(name), skLease),
			UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
			ReturnValues: types.ReturnValueAllNew,
		})
		if err == nil {
			var it leaseItem
			if err := unmarshalItem(out.Attributes, &it); err != nil {
				s.release(name, owner)
				return nil, fmt.Errorf("lock %s: %w", name, err)
			}
			return &Lease{s: s, name: name, owner: owner, token: it.Token, until: until,
				state: RolePolicies{Known: it.Known, Grants: it.Grants, Denies: it.Denies}}, nil
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

// Check tells whether the lease is still ours, right before a write the
// lease protects. It is a strongly consistent read (half the capacity of
// a transaction's condition check, and as current). ErrLeaseLost if not.
func (l *Lease) Check(ctx context.Context) error {
	it, err := l.s.leaseItem(ctx, l.name)
	if err != nil {
		return fmt.Errorf("check lease %s: %w", l.name, err)
	}
	if it.Owner != l.owner || it.Token != l.token || it.Until <= time.Now().UnixMilli() {
		return fmt.Errorf("lease %s: %w", l.name, ErrLeaseLost)
	}
	return nil
}

// Release gives the lease up, keeping the state stored with it, and says
// whether it was still ours until then: the check after the writes it
// protected. ErrLeaseLost if it was not (another writer may have written
// meanwhile; nothing of theirs is touched).
func (l *Lease) Release() error {
	// A fresh context: release even if the caller's ended.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	in, err := updateItem(l.s.table, key(leasePK(l.name), skLease), l.held(), giveUp())
	if err != nil {
		return fmt.Errorf("release lease %s: %w", l.name, err)
	}
	in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureNone
	_, err = l.s.db.UpdateItem(ctx, in)
	if conditionFailed(err, 0) {
		// Not ours now: either it ran out (and maybe another took it),
		// or it is ours but past its time; give the latter up too.
		l.s.release(l.name, l.owner)
		return fmt.Errorf("lease %s: %w", l.name, ErrLeaseLost)
	}
	if err != nil {
		// Whether it was still ours is unknown; it runs out by itself.
		return fmt.Errorf("release lease %s: %w", l.name, err)
	}
	return nil
}

// giveUp is the update that ends a lease, keeping the state stored with
// it. (A builder holds a map that its methods change: one per write.)
func giveUp() expression.UpdateBuilder {
	return expression.Remove(expression.Name(attrLeaseOwner)).Remove(expression.Name(attrLeaseUntil))
}

// releaseItem is Release as an item of another write's transaction (the
// one recording the outcome of the edit the lease protected): the
// transaction fails if the lease is no longer ours.
func (l *Lease) releaseItem() (types.TransactWriteItem, error) {
	w, err := conditionalUpdate(l.s.table, key(leasePK(l.name), skLease), l.held(), giveUp())
	if err != nil {
		return w, fmt.Errorf("release lease %s: %w", l.name, err)
	}
	return w, nil
}

// release gives up a lease of owner's, whatever its time, if it is still
// theirs.
func (s *Store) release(name, owner string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	in, err := updateItem(s.table, key(leasePK(name), skLease),
		expression.Name(attrLeaseOwner).Equal(expression.Value(owner)), giveUp())
	if err != nil {
		return
	}
	in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureNone
	_, _ = s.db.UpdateItem(ctx, in)
}
