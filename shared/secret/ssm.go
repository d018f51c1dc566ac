// Package secret reads the secrets the functions are configured with (the
// Slack bot token or webhook, the Slack signing secret) from SSM Parameter
// Store. It is its own package so that a function links the SSM client
// only when it reads one, and nothing else with it.
package secret

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// SSM reads a SecureString parameter (decrypted) and keeps it for TTL,
// so a rotated value is picked up without a redeploy. A parameter that
// does not exist is remembered as missing for TTL too: where the secret is
// not configured (Slack not set up), every message would otherwise cost a
// GetParameter call; a parameter created later is seen within TTL.
type SSM struct {
	API interface {
		GetParameter(context.Context, *ssm.GetParameterInput, ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	}
	Name string
	TTL  time.Duration
	Now  func() time.Time

	mu      sync.Mutex
	value   string
	missing error // the parameter did not exist at fetched
	fetched time.Time
}

// Get returns the parameter's value.
func (s *SSM) Get(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	if (s.value != "" || s.missing != nil) && now.Sub(s.fetched) < s.TTL {
		return s.value, s.missing
	}
	out, err := s.API.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(s.Name), WithDecryption: aws.Bool(true)})
	var missing *ssmtypes.ParameterNotFound
	if errors.As(err, &missing) {
		s.value, s.missing, s.fetched = "", fmt.Errorf("not configured: SSM parameter %s does not exist", s.Name), now
		return "", s.missing
	}
	if err != nil {
		return "", fmt.Errorf("read SSM parameter %s: %w", s.Name, err)
	}
	if out.Parameter == nil || strings.TrimSpace(aws.ToString(out.Parameter.Value)) == "" {
		return "", fmt.Errorf("SSM parameter %s is empty", s.Name)
	}
	s.value, s.missing, s.fetched = strings.TrimSpace(aws.ToString(out.Parameter.Value)), nil, now
	return s.value, nil
}
