package edge

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// The edge answers a DynamoDB request DynamoDB would refuse itself, with
// DynamoDB's ValidationException, unless it is lax; valid requests reach
// the emulator byte for byte.
func TestDynamoDBChecks(t *testing.T) {
	const (
		unused = `{"TableName":"t","Key":{"PK":{"S":"a"}},"UpdateExpression":"SET a = :a","ExpressionAttributeValues":{":a":{"S":"x"},":count":{"N":"1"}}}`
		valid  = `{"TableName":"t","Key":{"PK":{"S":"a"}},"UpdateExpression":"SET a = :a","ExpressionAttributeValues":{":a":{"S":"x"}}}`
	)
	tests := []struct {
		name        string
		give        string
		opts        []Option
		wantStatus  int
		wantBackend bool
		wantBody    string
	}{
		{
			name: "refused", give: unused, wantStatus: http.StatusBadRequest,
			wantBody: `{"__type":"com.amazon.coral.validate#ValidationException","message":"Value provided in ExpressionAttributeValues unused in expressions: keys: {:count}"}`,
		},
		{name: "valid", give: valid, wantStatus: http.StatusOK, wantBackend: true, wantBody: "moto"},
		{name: "lax", give: unused, opts: []Option{LaxDynamoDB()}, wantStatus: http.StatusOK, wantBackend: true, wantBody: "moto"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reached atomic.Bool
			backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reached.Store(true)
				if b, _ := io.ReadAll(r.Body); string(b) != tt.give {
					t.Errorf("backend got body %s, want %s", b, tt.give)
				}
				io.WriteString(w, "moto")
			}))
			t.Cleanup(backend.Close)
			edge := serveEdge(t, New(nil, mustParse(t, backend.URL), nil, tt.opts...))
			resp, body := post(t, edge.URL+"/", tt.give, map[string]string{
				"X-Amz-Target": "DynamoDB_20120810.UpdateItem", "Content-Type": "application/x-amz-json-1.0",
			})
			if resp.StatusCode != tt.wantStatus || reached.Load() != tt.wantBackend || strings.TrimSpace(body) != tt.wantBody {
				t.Errorf("status %d, reached emulator %v, body %s; want %d, %v, %s",
					resp.StatusCode, reached.Load(), body, tt.wantStatus, tt.wantBackend, tt.wantBody)
			}
		})
	}
}
