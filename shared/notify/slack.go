package notify

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

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/link"
	"github.com/jitaccess/jit/shared/slack"
)

// SlackApproval renders the approval request for Slack: the Block Kit
// content is built by the sender, which knows whether it posts to a
// channel through a webhook (and must mention the approver) or to the
// approver directly.
func SlackApproval(r *access.Request, slackID, url string, tok link.Token, linkExpires time.Time, level int, escalated bool) Message {
	d := newEmailData(r)
	a := &slack.Approval{
		Requester: who(r.Requester), Resource: r.Resource, RoleARN: r.Target.RoleARN,
		Duration: d.Duration, Window: d.Window, Reason: r.Reason,
		Ticket: r.Ticket, TicketURL: r.TicketURL,
		Level: chainLine(r, level, escalated, linkExpires), RequestID: r.ID,
		Expires: linkExpires.UTC().Format("2006-01-02 15:04 UTC"), DecisionURL: url, Token: tok,
	}
	return Message{
		Channel: ChannelSlack, To: slackID,
		Subject: fmt.Sprintf("Approve %s access to %s for %s?", d.Duration, r.Resource, who(r.Requester)),
		Slack:   a,
	}
}

// Slack posts approval messages to Slack. Its secret is either an
// incoming-webhook URL (messages go to the webhook's channel and mention
// the approver) or a bot token (xoxb-…; messages go to the approver as a
// direct message from the app). Either way the buttons open the decision
// page, where the approver confirms.
type Slack struct {
	Client *slack.Client
	// Secret returns the webhook URL or bot token.
	Secret func(context.Context) (string, error)
}

// Send posts m, whose Slack field holds the approval.
func (s *Slack) Send(ctx context.Context, m Message) error {
	if m.Slack == nil {
		return errors.New("slack: message has no Slack content")
	}
	secret, err := s.Secret(ctx)
	if err != nil {
		return fmt.Errorf("slack: %w", err)
	}
	a := *m.Slack
	switch {
	case slack.IsBotToken(secret):
		msg := slack.ApprovalMessage(a, slack.LinkButtons)
		msg.Channel = m.To
		return s.Client.PostMessage(ctx, secret, msg)
	case slack.IsWebhookURL(secret):
		a.Mention = m.To
		return s.Client.PostWebhook(ctx, secret, slack.ApprovalMessage(a, slack.LinkButtons))
	}
	return errors.New("slack: the configured secret is neither a bot token (xoxb-) nor an incoming-webhook URL (https://hooks.slack.com/services/)")
}

// SSMSecret reads a SecureString parameter (decrypted) and keeps it for
// TTL, so a rotated value is picked up without a redeploy.
type SSMSecret struct {
	API interface {
		GetParameter(context.Context, *ssm.GetParameterInput, ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	}
	Name string
	TTL  time.Duration
	Now  func() time.Time

	mu      sync.Mutex
	value   string
	fetched time.Time
}

// Get returns the parameter's value.
func (s *SSMSecret) Get(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	if s.value != "" && now.Sub(s.fetched) < s.TTL {
		return s.value, nil
	}
	out, err := s.API.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(s.Name), WithDecryption: aws.Bool(true)})
	var missing *ssmtypes.ParameterNotFound
	if errors.As(err, &missing) {
		return "", fmt.Errorf("not configured: SSM parameter %s does not exist", s.Name)
	}
	if err != nil {
		return "", fmt.Errorf("read SSM parameter %s: %w", s.Name, err)
	}
	if out.Parameter == nil || strings.TrimSpace(aws.ToString(out.Parameter.Value)) == "" {
		return "", fmt.Errorf("SSM parameter %s is empty", s.Name)
	}
	s.value, s.fetched = strings.TrimSpace(aws.ToString(out.Parameter.Value)), now
	return s.value, nil
}
