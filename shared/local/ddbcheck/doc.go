// Package ddbcheck refuses the DynamoDB requests that DynamoDB refuses and
// the emulator (moto) accepts, so that code tested on the local cloud
// does not fail on AWS with a ValidationException. The edge runs every
// DynamoDB JSON-protocol request (X-Amz-Target DynamoDB_20120810.*)
// through Screen before proxying it.
//
// It checks PutItem, UpdateItem, DeleteItem, GetItem, Query, Scan,
// TransactWriteItems, TransactGetItems, BatchWriteItem and BatchGetItem
// for what DynamoDB validates before reading any item:
//
//   - expression attribute names and values: every placeholder used in an
//     expression is defined, every one defined is used by one of the
//     request's expressions (per transaction action, across its
//     Key/Filter/Condition/Update/Projection expressions), names start
//     with # and values with :, neither map is empty, and no map is sent
//     without an expression to use it
//     (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ExpressionAttributeNames.html,
//     https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ExpressionAttributeValues.html);
//   - reserved words used bare as attribute names in an expression
//     (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ReservedWords.html);
//   - legacy parameters (Expected, AttributeUpdates, ConditionalOperator,
//     QueryFilter, ScanFilter, KeyConditions, AttributesToGet) mixed with
//     expressions
//     (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/LegacyConditionalParameters.html);
//   - update expressions: each of SET, REMOVE, ADD, DELETE at most once,
//     no two actions on overlapping document paths, no write to a key
//     attribute, known functions only
//     (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html);
//   - transactions: 1 to 100 actions, one kind per action, no two actions
//     on the same item
//     (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html,
//     https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactGetItems.html);
//   - batches: at most 25 writes or 100 keys, no item twice
//     (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html,
//     https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html);
//   - attribute values: exactly one data type, sets neither empty nor
//     with duplicates.
//
// A refused request is answered as DynamoDB answers it: HTTP 400,
// {"__type":"com.amazon.coral.validate#ValidationException","message":...}
// with DynamoDB's wording, the first fault in DynamoDB's order. Lengths
// DynamoDB reports with a Java rendering of the value show the count of
// items instead.
//
// It must not change a request it lets through, hold state between
// requests, or check what needs the table's schema or items (key types,
// item sizes, a Put-only transaction's duplicate items): the emulator
// does those. It is not a full expression parser: syntax errors other
// than a stray character are left to the emulator.
package ddbcheck
