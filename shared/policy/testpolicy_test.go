package policy

import (
	"os"
	"testing"
)

// The end-to-end policy must stay valid.
func TestParseEndToEndPolicy(t *testing.T) {
	b, err := os.ReadFile("../../test/e2e/testdata/policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(b); err != nil {
		t.Fatal(err)
	}
}
