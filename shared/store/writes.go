package store

import (
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Every write the store sends is conditional, and every condition, update
// and key condition is built with the expression builder: it names each
// placeholder it uses and only those (DynamoDB refuses a request with one
// defined but unused), so no call site spells expression strings or
// attribute maps by hand.

// createOnly is the condition of a Put that creates an item and never
// overwrites one.
var createOnly = mustBuild(expression.NewBuilder().
	WithCondition(expression.AttributeNotExists(expression.Name(attrPK))))

func mustBuild(b expression.Builder) expression.Expression {
	e, err := b.Build()
	if err != nil {
		panic("store: " + err.Error())
	}
	return e
}

// createPut is the transaction item that creates item (in table), or
// fails the transaction if an item with its key exists.
func createPut(table string, item map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName: &table, Item: item,
		ConditionExpression: createOnly.Condition(), ExpressionAttributeNames: createOnly.Names(),
	}}
}

// conditionalUpdate is the transaction item that applies update to the
// item at k (in table) only where cond holds.
func conditionalUpdate(table string, k map[string]types.AttributeValue, cond expression.ConditionBuilder, update expression.UpdateBuilder) (types.TransactWriteItem, error) {
	expr, err := expression.NewBuilder().WithCondition(cond).WithUpdate(update).Build()
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName: &table, Key: k,
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}}, nil
}

// partition is the key condition of a query for one partition key value.
func partition(attr, value string) expression.Expression {
	return mustBuild(expression.NewBuilder().
		WithKeyCondition(expression.Key(attr).Equal(expression.Value(value))))
}

// between is the key condition of a query for one partition key value
// and sort keys in [lo, hi].
func between(pkAttr, pk, skAttr, lo, hi string) expression.KeyConditionBuilder {
	return expression.Key(pkAttr).Equal(expression.Value(pk)).
		And(expression.Key(skAttr).Between(expression.Value(lo), expression.Value(hi)))
}

// updateItem is the single-item write that applies update to the item at
// k only where cond holds, asking for the item as it was when the
// condition fails (see refusedItem). One item changing needs no
// transaction, which would cost twice the write capacity.
func updateItem(table string, k map[string]types.AttributeValue, cond expression.ConditionBuilder, update expression.UpdateBuilder) (*dynamodb.UpdateItemInput, error) {
	expr, err := expression.NewBuilder().WithCondition(cond).WithUpdate(update).Build()
	if err != nil {
		return nil, err
	}
	return &dynamodb.UpdateItemInput{
		TableName: &table, Key: k,
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}, nil
}

// createItem is the single-item write that creates item, or fails if an
// item with its key exists.
func createItem(table string, item map[string]types.AttributeValue) *dynamodb.PutItemInput {
	return &dynamodb.PutItemInput{
		TableName: &table, Item: item,
		ConditionExpression: createOnly.Condition(), ExpressionAttributeNames: createOnly.Names(),
	}
}
