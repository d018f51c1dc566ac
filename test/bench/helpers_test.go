package bench

import (
	"testing"
	"time"
)

func TestDisposable(t *testing.T) {
	tests := []struct {
		name        string
		give        string
		want        bool
		wantRequest string
	}{
		{"request", "REQ#01jabc", true, "01jabc"},
		{"its events", "EVENT#01jabc", true, "01jabc"},
		{"the policy's events stay", "EVENT#policy-3", false, "policy-3"},
		{"link", "LINK#0a1b", true, ""},
		{"idempotency key", "IDEM#k", true, ""},
		{"policy", "POLICY#CURRENT", false, ""},
		{"lease", "LEASE#jit-sandbox-admin", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := disposable(tt.give); got != tt.want {
				t.Errorf("disposable(%q) = %v, want %v", tt.give, got, tt.want)
			}
			if got := requestOf(tt.give); got != tt.wantRequest {
				t.Errorf("requestOf(%q) = %q, want %q", tt.give, got, tt.wantRequest)
			}
		})
	}
}

func TestCovered(t *testing.T) {
	at := func(ms int) time.Time { return time.Unix(0, 0).Add(time.Duration(ms) * time.Millisecond) }
	tests := []struct {
		name string
		give []span
		want time.Duration
	}{
		{"none", nil, 0},
		{"one", []span{{at(0), at(10)}}, 10 * time.Millisecond},
		{"apart", []span{{at(20), at(25)}, {at(0), at(10)}}, 15 * time.Millisecond},
		{"overlapping", []span{{at(0), at(10)}, {at(5), at(20)}}, 20 * time.Millisecond},
		{"nested", []span{{at(0), at(30)}, {at(5), at(10)}, {at(12), at(20)}}, 30 * time.Millisecond},
		{"touching", []span{{at(0), at(10)}, {at(10), at(15)}}, 15 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := covered(tt.give); got != tt.want {
				t.Errorf("covered = %v, want %v", got, tt.want)
			}
		})
	}
}
