package policy

import (
	"encoding/json"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/jitaccess/jit/shared/channel"
)

// An approver is one flat object in YAML and JSON alike; channel
// addresses sit beside the email under their channel's field.
func TestApproverIsFlat(t *testing.T) {
	want := Approver{Name: "Carol", Email: "carol@example.com", Principal: "arn:aws:sts::*:assumed-role/Lead/carol",
		Addresses: map[string]string{channel.SMS: "+15555550102", channel.Slack: "U0CAROL01"}}
	var fromYAML Approver
	if err := yaml.Unmarshal([]byte("{name: Carol, email: carol@example.com, principal: 'arn:aws:sts::*:assumed-role/Lead/carol', phone: '+15555550102', slack: U0CAROL01}"), &fromYAML); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromYAML, want) {
		t.Errorf("from YAML = %+v", fromYAML)
	}
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"email":"carol@example.com","name":"Carol","phone":"+15555550102","principal":"arn:aws:sts::*:assumed-role/Lead/carol","slack":"U0CAROL01"}` {
		t.Errorf("JSON = %s", b)
	}
	var back Approver
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, want) {
		t.Errorf("JSON round trip = %+v, %v", back, err)
	}
	if back.Address(channel.Email) != "carol@example.com" || back.Address(channel.SMS) != "+15555550102" || back.Address("pager") != "" {
		t.Errorf("addresses: %+v", back)
	}
	if err := json.Unmarshal([]byte(`{"email":"a@example.com","pager":"P1"}`), &back); err == nil {
		t.Error("unknown JSON field accepted")
	}
}
