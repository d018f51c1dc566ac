package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/jitaccess/jit/shared/access"
)

// PolicyVersion is one applied policy document.
type PolicyVersion struct {
	Version   int
	Document  []byte
	AppliedBy string
	AppliedAt time.Time
}

// CurrentPolicy returns the policy in force. It returns access.ErrNotFound
// before any policy was applied.
func (s *Store) CurrentPolicy(ctx context.Context) (*PolicyVersion, error) {
	return s.policyAt(ctx, policyCurrentPK)
}

// PolicyVersion returns one applied version, current or not.
func (s *Store) PolicyVersion(ctx context.Context, version int) (*PolicyVersion, error) {
	return s.policyAt(ctx, policyPK(version))
}

func (s *Store) policyAt(ctx context.Context, pk string) (*PolicyVersion, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(pk, skPolicy), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get current policy: %w", err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("policy: %w", access.ErrNotFound)
	}
	var it policyItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return nil, fmt.Errorf("decode policy: %w", err)
	}
	at, err := parseTime(it.AppliedAt)
	if err != nil {
		return nil, fmt.Errorf("policy applied_at: %w", err)
	}
	return &PolicyVersion{Version: it.Version, Document: []byte(it.Document), AppliedBy: it.AppliedBy, AppliedAt: at}, nil
}

// ApplyPolicy stores document as the version after previous (0 for the
// first) and makes it current, with a policy_applied audit event carrying
// detail (e.g. a diff summary), in one transaction. It fails with
// ErrConflict if another version was applied since previous was read, so
// two admins cannot silently overwrite each other.
func (s *Store) ApplyPolicy(ctx context.Context, previous int, document []byte, by string, at time.Time, detail map[string]string) (int, error) {
	version := previous + 1
	it := policyItem{PK: policyPK(version), SK: skPolicy, Kind: kindPolicy, Version: version, Document: string(document), AppliedBy: by, AppliedAt: formatTime(at)}
	versioned, err := attributevalue.MarshalMap(it)
	if err != nil {
		return 0, fmt.Errorf("encode policy: %w", err)
	}
	it.PK = policyCurrentPK
	current, err := attributevalue.MarshalMap(it)
	if err != nil {
		return 0, fmt.Errorf("encode policy: %w", err)
	}
	event, err := policyEvent(ctx, version, by, at, detail)
	if err != nil {
		return 0, fmt.Errorf("encode policy event: %w", err)
	}
	// The current pointer moves only from the version the admin read.
	cond := expression.AttributeNotExists(expression.Name(attrPK))
	if previous > 0 {
		cond = expression.Name(attrVersion).Equal(expression.Value(previous))
	}
	moved, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return 0, fmt.Errorf("policy condition: %w", err)
	}
	fresh, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(attrPK))).Build()
	if err != nil {
		return 0, fmt.Errorf("policy condition: %w", err)
	}
	currentPut := &types.Put{
		TableName: &s.table, Item: current, ConditionExpression: moved.Condition(),
		ExpressionAttributeNames: moved.Names(), ExpressionAttributeValues: moved.Values(),
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{
			TableName: &s.table, Item: versioned,
			ConditionExpression: fresh.Condition(), ExpressionAttributeNames: fresh.Names(),
		}},
		{Put: currentPut},
		{Put: &types.Put{
			TableName: &s.table, Item: event,
			ConditionExpression: fresh.Condition(), ExpressionAttributeNames: fresh.Names(),
		}},
	}})
	if err != nil {
		if conditionFailed(err, 0) || conditionFailed(err, 1) || transactionConflict(err) {
			return 0, fmt.Errorf("apply policy version %d: %w", version, ErrConflict)
		}
		return 0, fmt.Errorf("apply policy version %d: %w", version, err)
	}
	return version, nil
}

// EventPolicyApplied is the audit event of a policy version.
const EventPolicyApplied = "policy_applied"

// policyEvent is the audit event of applying version: in an event
// partition of its own and in the audit indexes like request events. It
// has no requester or resource.
func policyEvent(ctx context.Context, version int, by string, at time.Time, detail map[string]string) (map[string]types.AttributeValue, error) {
	d := map[string]string{"version": fmt.Sprint(version)}
	for k, v := range detail {
		d[k] = v
	}
	o := access.OriginOf(ctx)
	return attributevalue.MarshalMap(newEventItem(access.Event{
		RequestID: fmt.Sprintf("policy-%d", version), Type: EventPolicyApplied, Actor: by, At: at,
		SourceIP: o.SourceIP, UserAgent: o.UserAgent, Detail: d,
	}))
}
