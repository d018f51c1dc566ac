package htmlpage

import (
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestSameOrigin(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		want    bool
	}{
		{"form on our page", map[string]string{"origin": "https://api.example.com", "sec-fetch-site": "same-origin"}, true},
		{"old browser, no headers", map[string]string{}, true},
		{"cross site", map[string]string{"origin": "https://evil.example", "sec-fetch-site": "cross-site"}, false},
		{"other origin", map[string]string{"origin": "https://evil.example"}, false},
		{"same site other subdomain", map[string]string{"sec-fetch-site": "same-site"}, false},
	}
	for _, tt := range tests {
		req := events.APIGatewayV2HTTPRequest{Headers: tt.headers}
		req.RequestContext.DomainName = "api.example.com"
		if got := SameOrigin(req); got != tt.want {
			t.Errorf("%s: SameOrigin = %v, want %v", tt.name, got, tt.want)
		}
	}
}
