package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ErrLockBusy is returned when a lease could not be taken before the
// context ended.
var ErrLockBusy = errors.New("lease held by another writer")

// Lock takes a lease named name for ttl, waiting (with jitter) while
// another holder has it. A holder that dies loses the lease when ttl runs
// out. unlock releases it only if it is still ours.
func (s *Store) Lock(ctx context.Context, name string, ttl time.Duration) (unlock func(), err error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	owner := hex.EncodeToString(b[:])
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
	}
	for {
		now := time.Now()
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Put: &types.Put{
			TableName: &s.table,
			Item: map[string]types.AttributeValue{
				attrPK:  &types.AttributeValueMemberS{Value: leasePK(name)},
				attrSK:  &types.AttributeValueMemberS{Value: skLease},
				"owner": &types.AttributeValueMemberS{Value: owner},
				"until": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(ttl).UnixMilli(), 10)},
				attrTTL: &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(ttl+time.Hour).Unix(), 10)},
			},
			ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #until < :now"),
			ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#until": "until"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.UnixMilli(), 10)}},
		}}}})
		if err == nil {
			return func() { s.unlock(name, owner) }, nil
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

func (s *Store) unlock(name, owner string) {
	// A fresh context: release even if the caller's ended.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Delete: &types.Delete{
		TableName:                 &s.table,
		Key:                       key(leasePK(name), skLease),
		ConditionExpression:       aws.String("#owner = :me"),
		ExpressionAttributeNames:  map[string]string{"#owner": "owner"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":me": &types.AttributeValueMemberS{Value: owner}},
	}}}})
}
