package gateway_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jitaccess/jit/shared/local/gateway"
)

func TestLoadIdentities(t *testing.T) {
	tests := []struct {
		name     string
		give     string // file content; empty means use testdata/identities.json
		want     []string
		wantErrs []string
	}{
		{name: "valid file", want: []string{"alice", "bob"}},
		{
			name: "duplicate access key, missing secret and ARN, all reported",
			give: `[
				{"name":"a","access_key_id":"AK1","secret_access_key":"s","principal_arn":"arn:aws:iam::123456789012:user/a"},
				{"name":"b","access_key_id":"AK1","secret_access_key":"s","principal_arn":"arn:aws:iam::123456789012:user/b"},
				{"name":"c","access_key_id":"AK2","principal_arn":"arn:aws:iam::123456789012:user/c"},
				{"name":"d","access_key_id":"AK3","secret_access_key":"s"}
			]`,
			wantErrs: []string{`access_key_id AK1 is also used by "a"`, `"c"): secret_access_key is empty`, `"d"): principal_arn: is empty`},
		},
		{name: "empty access key", give: `[{"name":"a","secret_access_key":"s","principal_arn":"arn:aws:iam::1:user/a"}]`, wantErrs: []string{"access_key_id is empty"}},
		{name: "not an ARN", give: `[{"name":"a","access_key_id":"AK","secret_access_key":"s","principal_arn":"alice"}]`, wantErrs: []string{`"alice" is not an ARN`}},
		{name: "misspelt field", give: `[{"name":"a","access_key":"AK"}]`, wantErrs: []string{`unknown field "access_key"`}},
		{name: "not an array", give: `{"name":"a"}`, wantErrs: []string{"cannot unmarshal"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join("testdata", "identities.json")
			if tt.give != "" {
				path = filepath.Join(t.TempDir(), "identities.json")
				if err := os.WriteFile(path, []byte(tt.give), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := gateway.LoadIdentities(path)
			if len(tt.wantErrs) > 0 {
				if err == nil {
					t.Fatalf("LoadIdentities() = %v, want error", got)
				}
				for _, want := range tt.wantErrs {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not mention %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadIdentities() error = %v", err)
			}
			var names []string
			for _, id := range got {
				names = append(names, id.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.want, ",") {
				t.Errorf("names = %v, want %v", names, tt.want)
			}
		})
	}
}

func TestLoadIdentitiesMissingFile(t *testing.T) {
	_, err := gateway.LoadIdentities(filepath.Join(t.TempDir(), "nope.json"))
	if err == nil || !strings.Contains(err.Error(), "nope.json") {
		t.Errorf("error = %v, want one naming the file", err)
	}
}

func TestNewValidates(t *testing.T) {
	invoke := func(context.Context, string, []byte) ([]byte, string, error) { return nil, "", nil }
	tests := []struct {
		name    string
		give    gateway.Config
		wantErr string
	}{
		{name: "no invoke", give: gateway.Config{}, wantErr: "Invoke is nil"},
		{
			name: "duplicate route",
			give: gateway.Config{Invoke: invoke, Routes: []gateway.Route{
				{Method: "GET", Path: "/a", Function: "F"}, {Method: "get", Path: "/a", Function: "G"},
			}},
			wantErr: `route "GET /a": defined twice`,
		},
		{
			name:    "bad route",
			give:    gateway.Config{Invoke: invoke, Routes: []gateway.Route{{Method: "GET", Path: "/a{b}", Function: "F"}}},
			wantErr: "must be a whole segment",
		},
		{
			name: "duplicate identity",
			give: gateway.Config{Invoke: invoke, Identities: []gateway.Identity{
				{Name: "a", AccessKeyID: "AK", SecretAccessKey: "s", PrincipalARN: "arn:aws:iam::1:user/a"},
				{Name: "b", AccessKeyID: "AK", SecretAccessKey: "s", PrincipalARN: "arn:aws:iam::1:user/b"},
			}},
			wantErr: "also used by",
		},
		{name: "valid", give: gateway.Config{Invoke: invoke, Routes: []gateway.Route{{Method: "GET", Path: "/", Function: "F"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := gateway.New(tt.give)
			if tt.wantErr == "" {
				if err != nil || h == nil {
					t.Fatalf("New() = %v, %v; want handler", h, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New() error = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}
