package access

import (
	"bytes"
	"sort"
	"testing"
	"time"
)

func TestCanMove(t *testing.T) {
	tests := []struct {
		from, to Status
		want     bool
	}{
		{Pending, Approved, true},
		{Pending, Denied, true},
		{Pending, Active, false},
		{Approved, Active, true},
		{Active, Expired, true},
		{Active, Revoked, true},
		{Denied, Approved, false},
		{Expired, Active, false},
		{Approved, Approved, false},
	}
	for _, tt := range tests {
		if got := CanMove(tt.from, tt.to); got != tt.want {
			t.Errorf("CanMove(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
	for _, s := range []Status{Denied, Cancelled, TimedOut, Failed, Revoked, Expired} {
		if !s.Terminal() {
			t.Errorf("%s should be terminal", s)
		}
	}
	if Pending.Terminal() || Status("bogus").Terminal() {
		t.Error("pending/bogus should not be terminal")
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		give    string
		want    time.Duration
		wantErr bool
	}{
		{"90s", 90 * time.Second, false},
		{"15m", 15 * time.Minute, false},
		{"1h30m", 90 * time.Minute, false},
		{"", 0, true},
		{"0s", 0, true},
		{"-5m", 0, true},
		{"1.5s", 0, true},
		{"soon", 0, true},
		{"15", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.give)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, err %v", tt.give, got, err, tt.want, tt.wantErr)
		}
	}
	for _, d := range []time.Duration{time.Minute, time.Hour, 90 * time.Minute, 45 * time.Second} {
		if back, err := ParseDuration(FormatDuration(d)); err != nil || back != d {
			t.Errorf("round trip %v via %q = %v, %v", d, FormatDuration(d), back, err)
		}
	}
	if FormatDuration(time.Hour) != "1h" || FormatDuration(15*time.Minute) != "15m" {
		t.Errorf("FormatDuration not compact: %s %s", FormatDuration(time.Hour), FormatDuration(15*time.Minute))
	}
}

func TestNewIDSortsAndValidates(t *testing.T) {
	base := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	var ids []string
	for i := 0; i < 50; i++ {
		id, err := NewID(base.Add(time.Duration(i)*time.Millisecond), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !ValidID(id) {
			t.Fatalf("NewID produced invalid id %q", id)
		}
		ids = append(ids, id)
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatalf("ids not time-ordered: %v", ids)
	}
	a, _ := NewID(base, bytes.NewReader(make([]byte, 10)))
	b, _ := NewID(base, bytes.NewReader(bytes.Repeat([]byte{0xff}, 10)))
	if a == b || a[:10] != b[:10] {
		t.Fatalf("time prefix should match, random part differ: %s %s", a, b)
	}
	for _, bad := range []string{"", "short", "0123456789abcdefghjkmnpqrstu", "0123456789ABCDEFGHJKMNPQRS", "0123456789abcdefghjkmnpqri"} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}
