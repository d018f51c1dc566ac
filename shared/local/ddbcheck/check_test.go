package ddbcheck

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	type give struct {
		op, body string
	}
	tests := []struct {
		name string
		give give
		want string // "" means accepted
	}{
		// Placeholders, per operation.
		{
			name: "put with a condition on a defined name",
			give: give{"PutItem", `{"TableName":"t","Item":{"PK":{"S":"a"}},"ConditionExpression":"attribute_not_exists(#pk)","ExpressionAttributeNames":{"#pk":"PK"}}`},
		},
		{
			name: "unused value in an update (a non-final level's approval)",
			give: give{"UpdateItem", `{"TableName":"t","Key":{"PK":{"S":"a"}},"UpdateExpression":"SET #approvals = :zero","ExpressionAttributeNames":{"#approvals":"approvals"},"ExpressionAttributeValues":{":zero":{"N":"0"},":count":{"N":"2"}}}`},
			want: "Value provided in ExpressionAttributeValues unused in expressions: keys: {:count}",
		},
		{
			name: "unused names are listed sorted",
			give: give{"GetItem", `{"TableName":"t","Key":{"PK":{"S":"a"}},"ProjectionExpression":"#a","ExpressionAttributeNames":{"#a":"a","#c":"c","#b":"b"}}`},
			want: "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b, #c}",
		},
		{
			name: "unused names are reported before unused values",
			give: give{"Query", `{"TableName":"t","KeyConditionExpression":"#pk = :pk","ExpressionAttributeNames":{"#pk":"PK","#x":"x"},"ExpressionAttributeValues":{":pk":{"S":"a"},":y":{"S":"b"}}}`},
			want: "Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}",
		},
		{
			name: "a value used only in the filter counts as used",
			give: give{"Query", `{"TableName":"t","KeyConditionExpression":"#pk = :pk","FilterExpression":"#t = :t","ExpressionAttributeNames":{"#pk":"PK","#t":"type"},"ExpressionAttributeValues":{":pk":{"S":"a"},":t":{"S":"b"}}}`},
		},
		{
			name: "undefined value in a condition",
			give: give{"DeleteItem", `{"TableName":"t","Key":{"PK":{"S":"a"}},"ConditionExpression":"#o = :me","ExpressionAttributeNames":{"#o":"owner"}}`},
			want: "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :me",
		},
		{
			name: "undefined name in an update",
			give: give{"UpdateItem", `{"TableName":"t","Key":{"PK":{"S":"a"}},"UpdateExpression":"SET #a = :v, #b = :v","ExpressionAttributeNames":{"#a":"a"},"ExpressionAttributeValues":{":v":{"S":"x"}}}`},
			want: "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #b",
		},
		{
			name: "the update is read before the condition",
			give: give{"UpdateItem", `{"TableName":"t","Key":{"PK":{"S":"a"}},"UpdateExpression":"SET #a = :v","ConditionExpression":"#c = :w","ExpressionAttributeNames":{"#c":"c"},"ExpressionAttributeValues":{":w":{"S":"x"}}}`},
			want: "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #a",
		},
		{
			name: "undefined name in a key condition",
			give: give{"Query", `{"TableName":"t","KeyConditionExpression":"#pk = :pk AND #sk BETWEEN :lo AND :hi","ExpressionAttributeNames":{"#pk":"PK"},"ExpressionAttributeValues":{":pk":{"S":"a"},":lo":{"S":"a"},":hi":{"S":"b"}}}`},
			want: "Invalid KeyConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #sk",
		},
		{
			name: "name without #",
			give: give{"GetItem", `{"TableName":"t","Key":{"PK":{"S":"a"}},"ProjectionExpression":"#a","ExpressionAttributeNames":{"#a":"a","b":"b"}}`},
			want: `ExpressionAttributeNames contains invalid key: Syntax error; key: "b"`,
		},
		{
			name: "value without :",
			give: give{"PutItem", `{"TableName":"t","Item":{"PK":{"S":"a"}},"ConditionExpression":"a = :a","ExpressionAttributeValues":{":a":{"S":"x"},"b":{"S":"y"}}}`},
			want: `ExpressionAttributeValues contains invalid key: Syntax error; key: "b"`,
		},
		{
			name: "empty names",
			give: give{"PutItem", `{"TableName":"t","Item":{"PK":{"S":"a"}},"ConditionExpression":"attribute_not_exists(PK)","ExpressionAttributeNames":{}}`},
			want: "ExpressionAttributeNames must not be empty",
		},
		{
			name: "empty values",
			give: give{"PutItem", `{"TableName":"t","Item":{"PK":{"S":"a"}},"ConditionExpression":"attribute_not_exists(PK)","ExpressionAttributeValues":{}}`},
			want: "ExpressionAttributeValues must not be empty",
		},
		{
			name: "null maps are absent maps",
			give: give{"PutItem", `{"TableName":"t","Item":{"PK":{"S":"a"}},"ConditionExpression":"attribute_not_exists(PK)","ExpressionAttributeValues":null}`},
		},
		{
			name: "names without any expression",
			give: give{"GetItem", `{"TableName":"t","Key":{"PK":{"S":"a"}},"ExpressionAttributeNames":{"#a":"a"}}`},
			want: "ExpressionAttributeNames can only be specified when using expressions",
		},
		{
			name: "values with only a projection",
			give: give{"Scan", `{"TableName":"t","ProjectionExpression":"a","ExpressionAttributeValues":{":a":{"S":"x"}}}`},
			want: "ExpressionAttributeValues can only be specified when using expressions: FilterExpression is null",
		},
		{
			name: "values without update or condition",
			give: give{"UpdateItem", `{"TableName":"t","Key":{"PK":{"S":"a"}},"ExpressionAttributeValues":{":a":{"S":"x"}}}`},
			want: "ExpressionAttributeValues can only be specified when using expressions: UpdateExpression and ConditionExpression are null",
		},
		{
			name: "invalid attribute value in the values",
			give: give{"UpdateItem", `{"TableName":"t","Key":{"PK":{"S":"a"}},"UpdateExpression":"ADD #h :id","ExpressionAttributeNames":{"#h":"holders"},"ExpressionAttributeValues":{":id":{"SS":[]}}}`},
			want: "ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: An string set  may not be empty for key :id",
		},
		{
			name: "duplicates in a set",
			give: give{"PutItem", `{"TableName":"t","Item":{"PK":{"S":"a"},"h":{"SS":["x","x"]}}}`},
			want: "One or more parameter values were invalid: Input collection [x, x] contains duplicates.",
		},
		{
			name: "attribute value with two types",
			give: give{"PutItem", `{"TableName":"t","Item":{"PK":{"S":"a","N":"1"}}}`},
			want: "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
		},

		// Reserved words.
		{
			name: "reserved word as a bare name in a condition",
			give: give{"PutItem", `{"TableName":"t","Item":{"PK":{"S":"a"}},"ConditionExpression":"attribute_not_exists(PK) OR status = :s","ExpressionAttributeValues":{":s":{"S":"x"}}}`},
			want: "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status",
		},
		{
			name: "reserved word in any letter case, inside a path",
			give: give{"GetItem", `{"TableName":"t","Key":{"PK":{"S":"a"}},"ProjectionExpression":"detail.Comment"}`},
			want: "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: Comment",
		},
		{
			name: "reserved word is reported before an undefined name",
			give: give{"UpdateItem", `{"TableName":"t","Key":{"PK":{"S":"a"}},"UpdateExpression":"SET #x = :v, ttl = :v","ExpressionAttributeValues":{":v":{"N":"1"}}}`},
			want: "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: ttl",
		},
		{
			name: "keywords and functions are not attribute names",
			give: give{"Scan", `{"TableName":"t","FilterExpression":"attribute_exists(a) AND NOT (b BETWEEN :lo AND :hi) OR size(c) > :lo OR d IN (:lo, :hi) AND begins_with(e, :hi)","ExpressionAttributeValues":{":lo":{"N":"1"},":hi":{"N":"2"}}}`},
		},
		{
			name: "unknown function",
			give: give{"Scan", `{"TableName":"t","FilterExpression":"starts_with(a, :x)","ExpressionAttributeValues":{":x":{"S":"x"}}}`},
			want: "Invalid FilterExpression: Invalid function name; function: starts_with",
		},
		{
			name: "a condition function in an update",
			give: give{"UpdateItem", `{"TableName":"t","Key":{"PK":{"S":"a"}},"UpdateExpression":"SET a = size(b)"}`},
			want: "Invalid UpdateExpression: Invalid function name; function: size",
		},

		// Update expressions.
		{
			name: "update with every section and functions",
			give: give{"UpdateItem", `{"TableName":"t","Key":{"PK":{"S":"a"}},"UpdateExpression":"SET a = if_not_exists(a, :z), l = list_append(l, :l) REMOVE b, c[0] ADD n :one DELETE s :s","ExpressionAttributeValues":{":z":{"N":"0"},":l":{"L":[]},":one":{"N":"1"},":s":{"SS":["x"]}}}`},
		},
		{
			name: "a section twice",
			give: give{"UpdateItem", `{"TableName":"t","Key":{"PK":{"S":"a"}},"UpdateExpression":"SET a = :v REMOVE b SET c = :v","ExpressionAttributeValues":{":v":{"N":"1"}}}`},
			want: `Invalid UpdateExpression: The "SET" section can only be used once in an update expression;`,
		},
		{
			name: "the same attribute set twice through two names",
			give: give{"UpdateItem", `{"TableName":"t","Key":{"PK":{"S":"a"}},"UpdateExpression":"SET #a = :v, #b = :v","ExpressionAttributeNames":{"#a":"approvals","#b":"approvals"},"ExpressionAttributeValues":{":v":{"N":"1"}}}`},
			want: "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [approvals], path two: [approvals]",
		},
		{
			name: "set and remove of nested paths",
			give: give{"UpdateItem", `{"TableName":"t","Key":{"PK":{"S":"a"}},"UpdateExpression":"SET a.b = :v REMOVE a","ExpressionAttributeValues":{":v":{"N":"1"}}}`},
			want: "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a]",
		},
		{
			name: "map key and list index on the same step",
			give: give{"UpdateItem", `{"TableName":"t","Key":{"PK":{"S":"a"}},"UpdateExpression":"SET a.b = :v, a[0] = :v","ExpressionAttributeValues":{":v":{"N":"1"}}}`},
			want: "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [0]]",
		},
		{
			name: "siblings do not overlap",
			give: give{"UpdateItem", `{"TableName":"t","Key":{"PK":{"S":"a"}},"UpdateExpression":"SET a.b = :v, a.c = :v, l[0] = :v, l[1] = :v","ExpressionAttributeValues":{":v":{"N":"1"}}}`},
		},
		{
			name: "write to a key attribute",
			give: give{"UpdateItem", `{"TableName":"t","Key":{"PK":{"S":"a"},"SK":{"S":"b"}},"UpdateExpression":"SET #sk = :v","ExpressionAttributeNames":{"#sk":"SK"},"ExpressionAttributeValues":{":v":{"S":"c"}}}`},
			want: "One or more parameter values were invalid: Cannot update attribute SK. This attribute is part of the key",
		},
		{
			name: "empty expression",
			give: give{"UpdateItem", `{"TableName":"t","Key":{"PK":{"S":"a"}},"UpdateExpression":"  "}`},
			want: "Invalid UpdateExpression: The expression can not be empty;",
		},
		{
			name: "stray character",
			give: give{"Scan", `{"TableName":"t","FilterExpression":"a = $x"}`},
			want: `Invalid FilterExpression: Syntax error; token: "$", near: "$x"`,
		},

		// Legacy parameters.
		{
			name: "expected with a condition expression",
			give: give{"PutItem", `{"TableName":"t","Item":{"PK":{"S":"a"}},"ConditionExpression":"attribute_not_exists(PK)","Expected":{"PK":{"Exists":false}}}`},
			want: "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
		},
		{
			name: "attribute updates with an update expression",
			give: give{"UpdateItem", `{"TableName":"t","Key":{"PK":{"S":"a"}},"UpdateExpression":"SET a = :v","ExpressionAttributeValues":{":v":{"N":"1"}},"AttributeUpdates":{"b":{"Action":"DELETE"}}}`},
			want: "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributeUpdates} Expression parameters: {UpdateExpression}",
		},
		{
			name: "attributes to get with a projection, in a query",
			give: give{"Query", `{"TableName":"t","KeyConditionExpression":"PK = :pk","ProjectionExpression":"a","AttributesToGet":["a"],"ExpressionAttributeValues":{":pk":{"S":"a"}}}`},
			want: "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression, KeyConditionExpression}",
		},
		{
			name: "key conditions with a filter expression is allowed",
			give: give{"Query", `{"TableName":"t","KeyConditions":{"PK":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"a"}]}},"FilterExpression":"a = :a","ExpressionAttributeValues":{":a":{"S":"x"}}}`},
		},
		{
			name: "key conditions with a key condition expression",
			give: give{"Query", `{"TableName":"t","KeyConditions":{"PK":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"a"}]}},"KeyConditionExpression":"PK = :a","ExpressionAttributeValues":{":a":{"S":"x"}}}`},
			want: "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {KeyConditions} Expression parameters: {KeyConditionExpression}",
		},
		{
			name: "scan filter with a filter expression",
			give: give{"Scan", `{"TableName":"t","ScanFilter":{"a":{"ComparisonOperator":"NOT_NULL"}},"FilterExpression":"attribute_exists(a)"}`},
			want: "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {ScanFilter} Expression parameters: {FilterExpression}",
		},
		{
			name: "legacy parameters alone are let through",
			give: give{"PutItem", `{"TableName":"t","Item":{"PK":{"S":"a"}},"Expected":{"PK":{"Exists":false}}}`},
		},

		// Transactions.
		{
			name: "placeholders are per action",
			give: give{"TransactWriteItems", `{"TransactItems":[
				{"Update":{"TableName":"t","Key":{"PK":{"S":"r"},"SK":{"S":"REQUEST"}},"UpdateExpression":"SET #n = :n","ConditionExpression":"#s = :s","ExpressionAttributeNames":{"#n":"n","#s":"status"},"ExpressionAttributeValues":{":n":{"N":"1"},":s":{"S":"pending"}}}},
				{"Put":{"TableName":"t","Item":{"PK":{"S":"e"},"SK":{"S":"x"}},"ConditionExpression":"attribute_not_exists(#pk)","ExpressionAttributeNames":{"#pk":"PK"}}}]}`},
		},
		{
			name: "unused value in the second action (decide.go before the fix)",
			give: give{"TransactWriteItems", `{"TransactItems":[
				{"Put":{"TableName":"t","Item":{"PK":{"S":"e"},"SK":{"S":"x"}},"ConditionExpression":"attribute_not_exists(#pk)","ExpressionAttributeNames":{"#pk":"PK"}}},
				{"Update":{"TableName":"t","Key":{"PK":{"S":"r"},"SK":{"S":"REQUEST"}},"UpdateExpression":"SET #a = :zero, #l = :next","ConditionExpression":"#a = :seen","ExpressionAttributeNames":{"#a":"approvals","#l":"level"},"ExpressionAttributeValues":{":zero":{"N":"0"},":next":{"N":"1"},":seen":{"N":"0"},":count":{"N":"1"}}}}]}`},
			want: "Value provided in ExpressionAttributeValues unused in expressions: keys: {:count}",
		},
		{
			name: "a name defined in one action is not defined in another",
			give: give{"TransactWriteItems", `{"TransactItems":[
				{"ConditionCheck":{"TableName":"t","Key":{"PK":{"S":"a"},"SK":{"S":"b"}},"ConditionExpression":"attribute_exists(#pk)","ExpressionAttributeNames":{"#pk":"PK"}}},
				{"Delete":{"TableName":"t","Key":{"PK":{"S":"c"},"SK":{"S":"d"}},"ConditionExpression":"attribute_exists(#pk)"}}]}`},
			want: "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #pk",
		},
		{
			name: "two actions on one item",
			give: give{"TransactWriteItems", `{"TransactItems":[
				{"Update":{"TableName":"t","Key":{"PK":{"S":"a"},"SK":{"S":"b"}},"UpdateExpression":"SET n = :n","ExpressionAttributeValues":{":n":{"N":"1"}}}},
				{"ConditionCheck":{"TableName":"t","Key":{"SK":{"S":"b"},"PK":{"S":"a"}},"ConditionExpression":"attribute_exists(PK)"}}]}`},
			want: "Transaction request cannot include multiple operations on one item",
		},
		{
			name: "a put of an item another action updates",
			give: give{"TransactWriteItems", `{"TransactItems":[
				{"Update":{"TableName":"t","Key":{"PK":{"S":"a"},"SK":{"S":"b"}},"UpdateExpression":"SET n = :n","ExpressionAttributeValues":{":n":{"N":"1"}}}},
				{"Put":{"TableName":"t","Item":{"PK":{"S":"a"},"SK":{"S":"b"},"n":{"N":"2"}}}}]}`},
			want: "Transaction request cannot include multiple operations on one item",
		},
		{
			name: "same key in two tables is two items",
			give: give{"TransactWriteItems", `{"TransactItems":[
				{"Delete":{"TableName":"t1","Key":{"PK":{"S":"a"}}}},
				{"Delete":{"TableName":"t2","Key":{"PK":{"S":"a"}}}}]}`},
		},
		{
			name: "an action of two kinds",
			give: give{"TransactWriteItems", `{"TransactItems":[{"Delete":{"TableName":"t","Key":{"PK":{"S":"a"}}},"Put":{"TableName":"t","Item":{"PK":{"S":"b"}}}}]}`},
			want: "TransactItems can only contain one of Check, Put, Update or Delete",
		},
		{
			name: "101 actions",
			give: give{"TransactWriteItems", transactOfDeletes(101)},
			want: "1 validation error detected: Value '[101 items]' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100",
		},
		{
			name: "100 actions",
			give: give{"TransactWriteItems", transactOfDeletes(100)},
		},
		{
			name: "no actions",
			give: give{"TransactWriteItems", `{"TransactItems":[]}`},
			want: "1 validation error detected: Value '[0 items]' at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
		},
		{
			name: "transact get of one item twice",
			give: give{"TransactGetItems", `{"TransactItems":[{"Get":{"TableName":"t","Key":{"PK":{"S":"a"}}}},{"Get":{"TableName":"t","Key":{"PK":{"S":"a"}},"ProjectionExpression":"#a","ExpressionAttributeNames":{"#a":"a"}}}]}`},
			want: "Transaction request cannot include multiple operations on one item",
		},
		{
			name: "transact get with an unused name",
			give: give{"TransactGetItems", `{"TransactItems":[{"Get":{"TableName":"t","Key":{"PK":{"S":"a"}},"ProjectionExpression":"a","ExpressionAttributeNames":{"#a":"a"}}}]}`},
			want: "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a}",
		},

		// Batches.
		{
			name: "batch write of 26",
			give: give{"BatchWriteItem", batchOfDeletes(13, 13)},
			want: "Too many items requested for the BatchWriteItem call",
		},
		{
			name: "batch write of 25 over two tables",
			give: give{"BatchWriteItem", batchOfDeletes(12, 13)},
		},
		{
			name: "batch write deleting one item twice",
			give: give{"BatchWriteItem", `{"RequestItems":{"t":[{"DeleteRequest":{"Key":{"PK":{"S":"a"}}}},{"DeleteRequest":{"Key":{"PK":{"S":"a"}}}}]}}`},
			want: "Provided list of item keys contains duplicates",
		},
		{
			name: "batch get with a projection and an unused name",
			give: give{"BatchGetItem", `{"RequestItems":{"t":{"Keys":[{"PK":{"S":"a"}}],"ProjectionExpression":"#a","ExpressionAttributeNames":{"#a":"a","#b":"b"}}}}`},
			want: "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}",
		},
		{
			name: "batch get of one key twice",
			give: give{"BatchGetItem", `{"RequestItems":{"t":{"Keys":[{"PK":{"S":"a"}},{"PK":{"S":"a"}}]}}}`},
			want: "Provided list of item keys contains duplicates",
		},

		// What is not checked.
		{
			name: "other operations pass",
			give: give{"DescribeTable", `{"TableName":"t","ExpressionAttributeNames":{}}`},
		},
		{
			name: "a body that is not JSON is the emulator's to refuse",
			give: give{"PutItem", `{"TableName":`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if err := Check(tt.give.op, []byte(tt.give.body)); err != nil {
				got = err.Message
			}
			if got != tt.want {
				t.Errorf("Check(%s)\n got %q\nwant %q", tt.give.op, got, tt.want)
			}
		})
	}
}

func transactOfDeletes(n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf(`{"Delete":{"TableName":"t","Key":{"PK":{"S":"k%d"}}}}`, i)
	}
	return `{"TransactItems":[` + strings.Join(items, ",") + `]}`
}

func batchOfDeletes(a, b int) string {
	table := func(n int) string {
		reqs := make([]string, n)
		for i := range reqs {
			reqs[i] = fmt.Sprintf(`{"DeleteRequest":{"Key":{"PK":{"S":"k%d"}}}}`, i)
		}
		return "[" + strings.Join(reqs, ",") + "]"
	}
	return `{"RequestItems":{"t1":` + table(a) + `,"t2":` + table(b) + `}}`
}

func TestScreen(t *testing.T) {
	tests := []struct {
		name       string
		target     string
		give       string
		wantRefuse bool
	}{
		{
			name:       "refused DynamoDB request",
			target:     "DynamoDB_20120810.UpdateItem",
			give:       `{"TableName":"t","Key":{"PK":{"S":"a"}},"UpdateExpression":"SET a = :a","ExpressionAttributeValues":{":a":{"S":"x"},":b":{"S":"y"}}}`,
			wantRefuse: true,
		},
		{
			name:   "valid DynamoDB request",
			target: "DynamoDB_20120810.UpdateItem",
			give:   `{"TableName":"t","Key":{"PK":{"S":"a"}},"UpdateExpression":"SET a = :a","ExpressionAttributeValues":{":a":{"S":"x"}}}`,
		},
		{
			name:   "another service with the same body",
			target: "AWSStepFunctions.StartExecution",
			give:   `{"ExpressionAttributeValues":{}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.give))
			r.Header.Set("X-Amz-Target", tt.target)
			rec := httptest.NewRecorder()
			refused := Screen(rec, r, nil)
			if refused != tt.wantRefuse {
				t.Fatalf("Screen refused = %v, want %v", refused, tt.wantRefuse)
			}
			if !refused {
				// The body must reach the emulator unchanged.
				got, err := io.ReadAll(r.Body)
				if err != nil || string(got) != tt.give {
					t.Errorf("body after Screen = %q (%v), want %q", got, err, tt.give)
				}
				return
			}
			if rec.Code != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/x-amz-json-1.0" {
				t.Errorf("Content-Type = %q", ct)
			}
			want := `{"__type":"com.amazon.coral.validate#ValidationException","message":"Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}"}`
			if got := rec.Body.String(); got != want {
				t.Errorf("body\n got %s\nwant %s", got, want)
			}
		})
	}
}
