package secret

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

type fakeSSM struct {
	value string
	calls int
}

func (f *fakeSSM) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	f.calls++
	if f.value == "" {
		return nil, &ssmtypes.ParameterNotFound{}
	}
	if !aws.ToBool(in.WithDecryption) {
		return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Value: aws.String("ciphertext")}}, nil
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Value: aws.String(" " + f.value + "\n")}}, nil
}

func TestSSMKeepsTheValueForTTL(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	api := &fakeSSM{value: "xoxb-1"}
	s := &SSM{API: api, Name: "/jit/slack", TTL: 5 * time.Minute, Now: func() time.Time { return now }}
	for i := 0; i < 3; i++ {
		if v, err := s.Get(context.Background()); v != "xoxb-1" || err != nil {
			t.Fatalf("Get = %q, %v", v, err)
		}
	}
	if api.calls != 1 {
		t.Errorf("%d reads within the TTL, want 1", api.calls)
	}
	api.value, now = "xoxb-2", now.Add(6*time.Minute)
	if v, _ := s.Get(context.Background()); v != "xoxb-2" || api.calls != 2 {
		t.Errorf("after the TTL: %q after %d reads", v, api.calls)
	}
}

// TestSSMRemembersAMissingParameter: a secret that is not configured costs
// one read per TTL, not one per message; once created it is seen after
// the TTL.
func TestSSMRemembersAMissingParameter(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	api := &fakeSSM{}
	s := &SSM{API: api, Name: "/jit/none", TTL: time.Minute, Now: func() time.Time { return now }}
	for i := 0; i < 3; i++ {
		if _, err := s.Get(context.Background()); err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("missing parameter: %v", err)
		}
	}
	if api.calls != 1 {
		t.Errorf("%d reads of a missing parameter within the TTL, want 1", api.calls)
	}
	api.value, now = "xoxb-3", now.Add(2*time.Minute)
	if v, err := s.Get(context.Background()); v != "xoxb-3" || err != nil || api.calls != 2 {
		t.Errorf("after the TTL: %q, %v after %d reads", v, err, api.calls)
	}
}
