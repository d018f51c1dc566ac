package cloud

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jitaccess/jit/shared/local/gateway"
)

// TestCallAPI: calls signed by CallAPI pass the real gateway's SigV4 check
// as the identity named, unsigned ones are refused on IAM routes, and a
// redirect comes back as the gateway sent it.
func TestCallAPI(t *testing.T) {
	alice := gateway.Identity{Name: "alice", AccessKeyID: "AKIAALICE0000000001", SecretAccessKey: "alice-secret", PrincipalARN: "arn:aws:iam::123456789012:user/alice"}
	// echo answers what the function saw: the caller, the body and one header.
	echo := func(_ context.Context, _ string, payload []byte) ([]byte, string, error) {
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, "", err
		}
		if ev.RawPath == "/away" {
			return []byte(`{"statusCode":303,"headers":{"location":"/elsewhere"}}`), "", nil
		}
		caller := ""
		if a := ev.RequestContext.Authorizer; a != nil && a.IAM != nil {
			caller = a.IAM.UserARN
		}
		body, _ := json.Marshal(map[string]string{"caller": caller, "body": ev.Body, "test": ev.Headers["x-test"]})
		out, _ := json.Marshal(map[string]any{"statusCode": 200, "headers": map[string]string{"content-type": "application/json"}, "body": string(body)})
		return out, "", nil
	}
	gw, err := gateway.New(gateway.Config{
		Routes: []gateway.Route{
			{Method: "POST", Path: "/v1/requests", Function: "ApiFunction", IAMAuth: true},
			{Method: "GET", Path: "/away", Function: "AwayFunction"},
		},
		Identities: []gateway.Identity{alice},
		Invoke:     echo,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	c := &Cloud{APIURL: srv.URL, Identities: []gateway.Identity{alice}}

	tests := []struct {
		name, who, method, path string
		wantCode                int
		want                    map[string]any // the JSON reply, when the call reaches the function
		wantHeader              http.Header
		wantErr                 string
	}{
		{name: "signed", who: "alice", method: "POST", path: "/v1/requests", wantCode: 200,
			want: map[string]any{"caller": alice.PrincipalARN, "body": `{"a":1}`, "test": "yes"}},
		{name: "unsigned", method: "POST", path: "/v1/requests", wantCode: http.StatusForbidden},
		{name: "unknown identity", who: "mallory", method: "POST", path: "/v1/requests", wantErr: `no identity "mallory"`},
		{name: "redirect not followed", method: "GET", path: "/away", wantCode: http.StatusSeeOther, wantHeader: http.Header{"Location": {"/elsewhere"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := c.CallAPI(context.Background(), tt.who, tt.method, tt.path, []byte(`{"a":1}`), map[string]string{"Content-Type": "application/json", "X-Test": "yes"})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("CallAPI: %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("CallAPI: %v", err)
			}
			if r.Code != tt.wantCode {
				t.Fatalf("code = %d, want %d (%s)", r.Code, tt.wantCode, r.Body)
			}
			for k := range tt.wantHeader {
				if got := r.Header.Get(k); got != tt.wantHeader.Get(k) {
					t.Errorf("%s = %q, want %q", k, got, tt.wantHeader.Get(k))
				}
			}
			if tt.want == nil {
				return
			}
			got, err := r.Object()
			if err != nil {
				t.Fatalf("Object: %v (%s)", err, r.Body)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

func TestReplyObject(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		want    int // keys
		wantErr bool
	}{
		{name: "object", give: `{"a":1,"b":2}`, want: 2},
		{name: "empty", give: ""},
		{name: "array", give: `[1]`, wantErr: true},
		{name: "html", give: `<p>no</p>`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Reply{Body: []byte(tt.give)}
			got, err := r.Object()
			if (err != nil) != tt.wantErr || len(got) != tt.want {
				t.Fatalf("Object() = %v, %v; want %d keys, error %v", got, err, tt.want, tt.wantErr)
			}
			if j := r.JSON(); len(j) != tt.want {
				t.Fatalf("JSON() = %v, want %d keys", j, tt.want)
			}
		})
	}
}
