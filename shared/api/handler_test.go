package api

import (
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// testPolicy is access's: a resource with two approvers, one whose only
// approver is bound to a principal, and an Identity Center resource.
var testPolicy = func() string {
	b, err := os.ReadFile("../access/testdata/open.yaml")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

const alice = "arn:aws:sts::123456789012:assumed-role/Engineer/alice@example.com"

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name, body, contentType string
		want                    string
	}{
		{"ok", `{"resource":"db","duration":"5m","reason":"x"}`, "application/json", ""},
		{"empty", ``, "application/json", "body is required"},
		{"malformed", `{"resource":`, "application/json", "JSON ends too early"},
		{"syntax", `{"resource" "db"}`, "application/json", "malformed JSON at byte"},
		{"wrong type", `{"duration": 15}`, "application/json", `field "duration" must be a string, not number`},
		{"unknown field", `{"resource":"db","role":"admin"}`, "application/json", `unknown field "role"`},
		{"two objects", `{"resource":"db"}{"resource":"db"}`, "application/json", "single JSON object"},
		{"not json", `resource=db`, "application/x-www-form-urlencoded", "Content-Type must be application/json"},
		{"too big", `{"reason":"` + strings.Repeat("x", maxBodyBytes) + `"}`, "application/json", "the limit is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b createBody
			err := decodeJSON(events.APIGatewayV2HTTPRequest{Body: tt.body, Headers: map[string]string{"content-type": tt.contentType}}, &b)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
