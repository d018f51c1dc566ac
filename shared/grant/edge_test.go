package grant_test

import (
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/jitaccess/jit/shared/local/edge"
)

// throughEdge returns the address of a local cloud edge in front of the
// emulator at motoURL, so the providers' DynamoDB calls are held to
// DynamoDB's validation (package ddbcheck) and not only to moto's.
func throughEdge(t *testing.T, motoURL string) string {
	t.Helper()
	u, err := url.Parse(motoURL)
	if err != nil {
		t.Fatalf("moto URL: %v", err)
	}
	front := httptest.NewServer(edge.New(nil, u, nil))
	t.Cleanup(front.Close)
	return front.URL
}
