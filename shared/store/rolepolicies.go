package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// RolePolicies is what the service expects of a managed role's policies,
// kept on the role's lease item: the source of truth for the next edit,
// because IAM reads are eventually consistent and may not show the last
// write yet.
type RolePolicies struct {
	// Known is false until the first Save (the role was last edited by a
	// version that kept no state).
	Known bool
	// Grants is the JSON list of the grant statements the role's trust
	// policy must hold.
	Grants string
	// Denies is the role's revoked-sessions policy document (JSON).
	Denies string
}

// Policies reads the role state kept with the lease (strongly
// consistent).
func (l *Lease) Policies(ctx context.Context) (RolePolicies, error) {
	it, err := l.s.leaseItem(ctx, l.name)
	if err != nil {
		return RolePolicies{}, err
	}
	return RolePolicies{Known: it.Known, Grants: it.Grants, Denies: it.Denies}, nil
}

// Save writes the role state, only while the lease is still ours: it is
// the conditional write made before the IAM writes it describes.
func (l *Lease) Save(ctx context.Context, p RolePolicies) error {
	cond, names, values := l.held()
	names["#grants"], names["#denies"], names["#known"] = attrRoleGrants, attrRoleDenies, attrRoleKnown
	values[":grants"] = &types.AttributeValueMemberS{Value: p.Grants}
	values[":denies"] = &types.AttributeValueMemberS{Value: p.Denies}
	values[":known"] = &types.AttributeValueMemberBOOL{Value: true}
	_, err := l.s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Update: &types.Update{
		TableName: &l.s.table, Key: key(leasePK(l.name), skLease),
		UpdateExpression:    aws.String("SET #grants = :grants, #denies = :denies, #known = :known"),
		ConditionExpression: &cond, ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}}}})
	if conditionFailed(err, 0) {
		return fmt.Errorf("lease %s: %w", l.name, ErrLeaseLost)
	}
	if err != nil {
		return fmt.Errorf("save role state %s: %w", l.name, err)
	}
	return nil
}
