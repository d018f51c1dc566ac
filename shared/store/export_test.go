package store

import (
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/jitaccess/jit/shared/access"
)

// EventItem is ev as stored, keys and audit index keys included: tests
// write many with BatchWriteItem instead of one transaction each.
func EventItem(ev access.Event) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMap(newEventItem(ev))
}
