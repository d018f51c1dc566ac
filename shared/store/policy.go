package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
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
	cond := "attribute_not_exists(#pk)"
	values := map[string]types.AttributeValue{}
	if previous > 0 {
		cond = "#version = :previous"
		values[":previous"] = &types.AttributeValueMemberN{Value: fmt.Sprint(previous)}
	}
	currentPut := &types.Put{
		TableName: &s.table, Item: current, ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#version": attrVersion},
	}
	if previous == 0 {
		currentPut.ExpressionAttributeNames = map[string]string{"#pk": attrPK}
	} else {
		currentPut.ExpressionAttributeNames = map[string]string{"#version": attrVersion}
		currentPut.ExpressionAttributeValues = values
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{
			TableName: &s.table, Item: versioned,
			ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
			ExpressionAttributeNames: map[string]string{"#pk": attrPK},
		}},
		{Put: currentPut},
		{Put: &types.Put{
			TableName: &s.table, Item: event,
			ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
			ExpressionAttributeNames: map[string]string{"#pk": attrPK},
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
