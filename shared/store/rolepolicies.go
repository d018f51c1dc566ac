package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
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
	state := expression.Set(expression.Name(attrRoleGrants), expression.Value(p.Grants)).
		Set(expression.Name(attrRoleDenies), expression.Value(p.Denies)).
		Set(expression.Name(attrRoleKnown), expression.Value(true))
	expr, err := expression.NewBuilder().WithCondition(l.held()).WithUpdate(state).Build()
	if err != nil {
		return fmt.Errorf("save role state %s: %w", l.name, err)
	}
	_, err = l.s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Update: &types.Update{
		TableName: &l.s.table, Key: key(leasePK(l.name), skLease),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}}}})
	if conditionFailed(err, 0) {
		return fmt.Errorf("lease %s: %w", l.name, ErrLeaseLost)
	}
	if err != nil {
		return fmt.Errorf("save role state %s: %w", l.name, err)
	}
	return nil
}
