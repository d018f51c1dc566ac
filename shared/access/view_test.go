package access

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The view is the request's own JSON form with durations as people write
// them; the workflow's tokens never leave the service.
func TestViewWritesDurationsAndHidesTokens(t *testing.T) {
	r := &Request{ID: "r1", Duration: 90 * time.Minute, TaskToken: "task-secret", HoldToken: "hold-secret",
		Chain: []Level{{Name: "lead", Timeout: 30 * time.Minute, MinApprovals: 1}}, Escalated: true}
	b, err := json.Marshal(r.View(nil))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"duration":"1h30m"`, `"timeout":"30m"`, `"escalated":true`, `"break_glass":false`} {
		if !strings.Contains(s, want) {
			t.Errorf("view lacks %s: %s", want, s)
		}
	}
	if strings.Contains(s, "secret") {
		t.Errorf("view carries a token: %s", s)
	}
	var back View
	if err := json.Unmarshal(b, &back); err != nil || back.ID != "r1" || back.Duration != "1h30m" || back.Chain[0].Timeout != "30m" {
		t.Errorf("read back %+v, %v", back, err)
	}
}
