package store

// Identity Center account assignments, reference-counted.
//
// An Identity Center assignment (user, permission set, account) is one
// object in AWS however many requests want it, so the identity_center
// grant provider keeps one item per assignment here:
//
//	PK ASSIGN#<instance>#<account>#<permission set>#<user id>   SK ASSIGNMENT
//	holders      string set of the request ids that hold it
//	assign_state what this service last did to the AWS object (below)
//	operation_id the AWS request id of a creation or deletion in flight
//	lease_owner, lease_until   who may change the AWS object, until when
//
// and one small item per request saying which assignment it holds
// (PK REQ#<id>, SK ASSIGNMENT), so that revoking needs neither the
// identity store nor the requester's current name.
//
// Holders change with single UpdateItem calls (ADD / DELETE on the set),
// which DynamoDB applies atomically, so concurrent holds and releases
// count exactly and a request holding twice holds once. The AWS object is
// changed only by the lease owner, and every state write is conditional on
// the lease (fencing a caller whose lease was taken over). The one state
// change that takes access away, present -> deleting (and external ->
// absent), is also conditional on the holder set being empty, in the same
// write; so an assignment that is present while a request holds it stays
// present until that request releases it. See grant.IdentityCenter for
// how the provider uses this.
//
// Keys and attribute names are defined here, in the keys.go style (keys.go
// was another change's file when this was written); they can move there
// as is.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names of assignment items.
const (
	attrKind             = "kind"
	attrHolders          = "holders"
	attrAssignState      = "assign_state"
	attrOperationID      = "operation_id"
	attrLeaseOwner       = "lease_owner"
	attrLeaseUntil       = "lease_until"
	attrInstanceARN      = "instance_arn"
	attrAccountID        = "account_id"
	attrPermissionSetARN = "permission_set_arn"
	attrUserID           = "user_id"
)

const (
	kindAssignment    = "assignment"
	kindAssignmentRef = "assignment_ref"

	// skAssignment is the sort key of both the assignment item and a
	// request's reference to it.
	skAssignment = "ASSIGNMENT"
)

// assignmentPK names one assignment: instance, account, permission set
// and user, in that order.
func assignmentPK(k AssignmentKey) string {
	return "ASSIGN#" + k.InstanceARN + "#" + k.AccountID + "#" + k.PermissionSetARN + "#" + k.UserID
}

// AssignmentKey names one Identity Center account assignment of a user.
type AssignmentKey struct {
	InstanceARN      string
	AccountID        string
	PermissionSetARN string
	UserID           string
}

func (k AssignmentKey) valid() bool {
	return k.InstanceARN != "" && k.AccountID != "" && k.PermissionSetARN != "" && k.UserID != ""
}

func (k AssignmentKey) String() string {
	return fmt.Sprintf("%s in %s for user %s", k.PermissionSetARN, k.AccountID, k.UserID)
}

// AssignmentState is what this service last did to an assignment in AWS.
type AssignmentState string

// Assignment states. Absent is the zero value: nothing of ours exists.
const (
	AssignmentAbsent AssignmentState = ""
	// AssignmentCreating: CreateAccountAssignment was (or is about to be)
	// sent; OperationID tracks it once known.
	AssignmentCreating AssignmentState = "creating"
	// AssignmentPresent: we created it and it exists.
	AssignmentPresent AssignmentState = "present"
	// AssignmentExternal: it existed before any request held it (someone
	// assigned it outside this service); it is never deleted by us.
	AssignmentExternal AssignmentState = "external"
	// AssignmentDeleting: DeleteAccountAssignment was (or is about to be)
	// sent; OperationID tracks it once known.
	AssignmentDeleting AssignmentState = "deleting"
)

// Assignment is the stored view of one assignment.
type Assignment struct {
	Key         AssignmentKey
	Holders     []string
	State       AssignmentState
	OperationID string
	LeaseOwner  string
	LeaseUntil  time.Time
}

// Held reports whether any request holds the assignment.
func (a *Assignment) Held() bool { return len(a.Holders) > 0 }

// ErrAssignmentLeased is returned by Lease while another owner's lease
// is live.
var ErrAssignmentLeased = errors.New("assignment is leased by another caller")

// ErrNotLeaseOwner is returned by SetState when the caller no longer owns
// the lease (it expired and was taken over), or when the write's other
// condition (no holders) did not hold.
var ErrNotLeaseOwner = fmt.Errorf("assignment changed under the caller: %w", ErrConflict)

// AssignmentsDB is the part of the DynamoDB API assignments use. The grant
// and revoke functions' policies allow exactly these on the table.
type AssignmentsDB interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Assignments keeps assignment holders, states and leases in one table.
type Assignments struct {
	db    AssignmentsDB
	table string
}

// NewAssignments returns assignments kept in table.
func NewAssignments(db AssignmentsDB, table string) *Assignments {
	return &Assignments{db: db, table: table}
}

type assignmentItem struct {
	PK               string   `dynamodbav:"PK"`
	SK               string   `dynamodbav:"SK"`
	Kind             string   `dynamodbav:"kind"`
	InstanceARN      string   `dynamodbav:"instance_arn"`
	AccountID        string   `dynamodbav:"account_id"`
	PermissionSetARN string   `dynamodbav:"permission_set_arn"`
	UserID           string   `dynamodbav:"user_id"`
	Holders          []string `dynamodbav:"holders,stringset,omitempty"`
	State            string   `dynamodbav:"assign_state,omitempty"`
	OperationID      string   `dynamodbav:"operation_id,omitempty"`
	LeaseOwner       string   `dynamodbav:"lease_owner,omitempty"`
	LeaseUntil       int64    `dynamodbav:"lease_until,omitempty"`
	UpdatedAt        string   `dynamodbav:"updated_at,omitempty"`
}

func decodeAssignment(raw map[string]types.AttributeValue) (*Assignment, error) {
	var it assignmentItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return nil, fmt.Errorf("decode assignment: %w", err)
	}
	a := &Assignment{
		Key:         AssignmentKey{InstanceARN: it.InstanceARN, AccountID: it.AccountID, PermissionSetARN: it.PermissionSetARN, UserID: it.UserID},
		Holders:     it.Holders,
		State:       AssignmentState(it.State),
		OperationID: it.OperationID,
		LeaseOwner:  it.LeaseOwner,
	}
	if it.LeaseUntil != 0 {
		a.LeaseUntil = time.UnixMilli(it.LeaseUntil).UTC()
	}
	return a, nil
}

// stringSet marshals as a DynamoDB string set, which ADD and DELETE
// need (a []string marshals as a list).
type stringSet []string

func (s stringSet) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	return &types.AttributeValueMemberSS{Value: s}, nil
}

// sameAssignment is the condition that an item names assignment k.
func sameAssignment(k AssignmentKey) expression.ConditionBuilder {
	return expression.Name(attrInstanceARN).Equal(expression.Value(k.InstanceARN)).
		And(expression.Name(attrAccountID).Equal(expression.Value(k.AccountID))).
		And(expression.Name(attrPermissionSetARN).Equal(expression.Value(k.PermissionSetARN))).
		And(expression.Name(attrUserID).Equal(expression.Value(k.UserID)))
}

// Hold records that requestID holds assignment k, and returns whether it
// is the first holder (nobody held it before) and the assignment as it is
// now. Holding again is one hold (first is then false). A request holds
// at most one assignment: holding another is an error.
func (s *Assignments) Hold(ctx context.Context, k AssignmentKey, requestID string, at time.Time) (first bool, a *Assignment, err error) {
	if !k.valid() || requestID == "" {
		return false, nil, fmt.Errorf("hold assignment: incomplete key %+v or request id %q", k, requestID)
	}
	// The reference first: a reference without a hold (if we stop between
	// the two) only makes a later release a no-op.
	ref, err := attributevalue.MarshalMap(assignmentItem{
		PK: requestPK(requestID), SK: skAssignment, Kind: kindAssignmentRef,
		InstanceARN: k.InstanceARN, AccountID: k.AccountID, PermissionSetARN: k.PermissionSetARN, UserID: k.UserID,
		UpdatedAt: formatTime(at),
	})
	if err != nil {
		return false, nil, fmt.Errorf("hold assignment: %w", err)
	}
	refExpr, err := expression.NewBuilder().
		WithCondition(expression.AttributeNotExists(expression.Name(attrPK)).Or(sameAssignment(k))).Build()
	if err != nil {
		return false, nil, fmt.Errorf("hold assignment: %w", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: ref,
		ConditionExpression:      refExpr.Condition(),
		ExpressionAttributeNames: refExpr.Names(), ExpressionAttributeValues: refExpr.Values(),
	})
	if conditionFailed(err, 0) {
		return false, nil, fmt.Errorf("hold assignment: request %s already holds another assignment: %w", requestID, ErrConflict)
	}
	if err != nil {
		return false, nil, fmt.Errorf("hold assignment for %s: %w", requestID, err)
	}
	hold := expression.Add(expression.Name(attrHolders), expression.Value(stringSet{requestID})).
		Set(expression.Name(attrKind), expression.Value(kindAssignment)).
		Set(expression.Name(attrInstanceARN), expression.Value(k.InstanceARN)).
		Set(expression.Name(attrAccountID), expression.Value(k.AccountID)).
		Set(expression.Name(attrPermissionSetARN), expression.Value(k.PermissionSetARN)).
		Set(expression.Name(attrUserID), expression.Value(k.UserID)).
		Set(expression.Name(attrUpdatedAt), expression.Value(formatTime(at)))
	// Only ever an assignment item under this key.
	onlyAssignment := expression.AttributeNotExists(expression.Name(attrPK)).
		Or(expression.Name(attrKind).Equal(expression.Value(kindAssignment)))
	expr, err := expression.NewBuilder().WithCondition(onlyAssignment).WithUpdate(hold).Build()
	if err != nil {
		return false, nil, fmt.Errorf("hold assignment: %w", err)
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(assignmentPK(k), skAssignment),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValues: types.ReturnValueAllOld,
	})
	if err != nil {
		return false, nil, s.writeErr("hold assignment "+k.String(), err)
	}
	a, err = decodeAssignment(out.Attributes)
	if err != nil {
		return false, nil, err
	}
	first = len(a.Holders) == 0
	if !contains(a.Holders, requestID) {
		a.Holders = append(a.Holders, requestID)
	}
	a.Key = k
	return first, a, nil
}

// HeldBy returns the assignment requestID holds (or held), or nil if it
// never held one.
func (s *Assignments) HeldBy(ctx context.Context, requestID string) (*AssignmentKey, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(requestPK(requestID), skAssignment), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("assignment of %s: %w", requestID, err)
	}
	if out.Item == nil {
		return nil, nil
	}
	a, err := decodeAssignment(out.Item)
	if err != nil {
		return nil, err
	}
	if !a.Key.valid() {
		return nil, fmt.Errorf("assignment of %s: incomplete reference", requestID)
	}
	return &a.Key, nil
}

// Release ends requestID's hold on the assignment it holds. It returns
// whether this release removed the last holder, and the assignment as it
// is now; a is nil if the request never held an assignment. Releasing
// again succeeds (last is then false).
func (s *Assignments) Release(ctx context.Context, requestID string, at time.Time) (last bool, a *Assignment, err error) {
	k, err := s.HeldBy(ctx, requestID)
	if err != nil || k == nil {
		return false, nil, err
	}
	release := expression.Delete(expression.Name(attrHolders), expression.Value(stringSet{requestID})).
		Set(expression.Name(attrUpdatedAt), expression.Value(formatTime(at)))
	// Never create an item just to release from it.
	expr, err := expression.NewBuilder().
		WithCondition(expression.AttributeExists(expression.Name(attrPK))).WithUpdate(release).Build()
	if err != nil {
		return false, nil, fmt.Errorf("release assignment: %w", err)
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(assignmentPK(*k), skAssignment),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValues: types.ReturnValueAllOld,
	})
	if conditionFailed(err, 0) {
		// The reference was written but the hold never was: nothing held.
		return false, nil, nil
	}
	if err != nil {
		return false, nil, s.writeErr("release assignment "+k.String(), err)
	}
	a, err = decodeAssignment(out.Attributes)
	if err != nil {
		return false, nil, err
	}
	held := contains(a.Holders, requestID)
	kept := a.Holders[:0]
	for _, h := range a.Holders {
		if h != requestID {
			kept = append(kept, h)
		}
	}
	a.Holders = kept
	return held && len(kept) == 0, a, nil
}

// Get reads an assignment (consistently). A missing item is an absent,
// unheld assignment.
func (s *Assignments) Get(ctx context.Context, k AssignmentKey) (*Assignment, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(assignmentPK(k), skAssignment), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get assignment %s: %w", k, err)
	}
	if out.Item == nil {
		return &Assignment{Key: k}, nil
	}
	a, err := decodeAssignment(out.Item)
	if err != nil {
		return nil, err
	}
	a.Key = k
	return a, nil
}

// Lease makes owner the only caller allowed to change the assignment in
// AWS until now+ttl, and returns the assignment as of taking the lease. A
// lease past its expiry is free; owner may renew its own. While another
// owner's lease is live it returns ErrAssignmentLeased with the current
// assignment. The item must exist (Hold creates it).
func (s *Assignments) Lease(ctx context.Context, k AssignmentKey, owner string, now time.Time, ttl time.Duration) (*Assignment, error) {
	leaseOwner := expression.Name(attrLeaseOwner)
	free := expression.AttributeNotExists(leaseOwner).
		Or(leaseOwner.Equal(expression.Value(owner))).
		Or(expression.Name(attrLeaseUntil).LessThan(expression.Value(now.UnixMilli())))
	take := expression.Set(leaseOwner, expression.Value(owner)).
		Set(expression.Name(attrLeaseUntil), expression.Value(now.Add(ttl).UnixMilli()))
	expr, err := expression.NewBuilder().
		WithCondition(expression.AttributeExists(expression.Name(attrPK)).And(free)).WithUpdate(take).Build()
	if err != nil {
		return nil, fmt.Errorf("lease assignment: %w", err)
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(assignmentPK(k), skAssignment),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			if ccf.Item == nil {
				return &Assignment{Key: k}, fmt.Errorf("lease assignment %s: no such assignment: %w", k, ErrConflict)
			}
			a, derr := decodeAssignment(ccf.Item)
			if derr != nil {
				return nil, derr
			}
			a.Key = k
			return a, fmt.Errorf("lease assignment %s (owner %s until %s): %w", k, a.LeaseOwner, a.LeaseUntil.Format(time.RFC3339), ErrAssignmentLeased)
		}
		return nil, s.writeErr("lease assignment "+k.String(), err)
	}
	a, err := decodeAssignment(out.Attributes)
	if err != nil {
		return nil, err
	}
	a.Key = k
	return a, nil
}

// SetState records the assignment's new state and operation id ("" for
// none), only while owner holds the lease and, with unheld, only while no
// request holds it: the condition that makes taking access away safe. It
// returns the assignment as it is after the write, or ErrNotLeaseOwner.
func (s *Assignments) SetState(ctx context.Context, k AssignmentKey, owner string, to AssignmentState, operationID string, unheld bool, at time.Time) (*Assignment, error) {
	update := expression.Set(expression.Name(attrUpdatedAt), expression.Value(formatTime(at)))
	// An empty value is no attribute.
	for attr, v := range map[string]string{attrAssignState: string(to), attrOperationID: operationID} {
		if v == "" {
			update = update.Remove(expression.Name(attr))
		} else {
			update = update.Set(expression.Name(attr), expression.Value(v))
		}
	}
	cond := expression.AttributeExists(expression.Name(attrPK)).
		And(expression.Name(attrLeaseOwner).Equal(expression.Value(owner)))
	if unheld {
		// DynamoDB removes a string set when its last element is deleted,
		// so "no holders" is exactly "no holders attribute".
		cond = cond.And(expression.AttributeNotExists(expression.Name(attrHolders)))
	}
	expr, err := expression.NewBuilder().WithCondition(cond).WithUpdate(update).Build()
	if err != nil {
		return nil, fmt.Errorf("set assignment %s: %w", k, err)
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(assignmentPK(k), skAssignment),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValues: types.ReturnValueAllNew,
	})
	if conditionFailed(err, 0) {
		return nil, fmt.Errorf("set assignment %s to %q: %w", k, to, ErrNotLeaseOwner)
	}
	if err != nil {
		return nil, s.writeErr("set assignment "+k.String(), err)
	}
	a, err := decodeAssignment(out.Attributes)
	if err != nil {
		return nil, err
	}
	a.Key = k
	return a, nil
}

// Unlease gives the lease up if owner still has it.
func (s *Assignments) Unlease(ctx context.Context, k AssignmentKey, owner string) error {
	expr, err := expression.NewBuilder().
		WithCondition(expression.Name(attrLeaseOwner).Equal(expression.Value(owner))).
		WithUpdate(expression.Remove(expression.Name(attrLeaseOwner)).Remove(expression.Name(attrLeaseUntil))).Build()
	if err != nil {
		return fmt.Errorf("unlease assignment: %w", err)
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(assignmentPK(k), skAssignment),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	if conditionFailed(err, 0) {
		return nil
	}
	if err != nil {
		return s.writeErr("unlease assignment "+k.String(), err)
	}
	return nil
}

// writeErr wraps a failed write; a write that lost to a transaction on
// the same item is a conflict worth retrying.
func (s *Assignments) writeErr(what string, err error) error {
	if transactionConflict(err) {
		return fmt.Errorf("%s: %w (%w)", what, ErrConflict, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
