package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
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

// Policies is the role state kept with the lease, as the Lock found it
// (or as this holder last saved it): no one else writes it while the
// lease is ours, so it needs no read.
func (l *Lease) Policies() RolePolicies { return l.state }

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
	_, err = l.s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &l.s.table, Key: key(leasePK(l.name), skLease),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	if conditionFailed(err, 0) {
		return fmt.Errorf("lease %s: %w", l.name, ErrLeaseLost)
	}
	if err != nil {
		return fmt.Errorf("save role state %s: %w", l.name, err)
	}
	l.state = RolePolicies{Known: true, Grants: p.Grants, Denies: p.Denies}
	return nil
}
