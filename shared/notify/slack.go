package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/link"
	"github.com/jitaccess/jit/shared/slack"
)

func init() {
	renderers[ChannelSlack] = func(r *access.Request, _, slackID, url string, tok link.Token, ask Ask) (Message, error) {
		return SlackApproval(r, slackID, url, tok, ask), nil
	}
}

// SlackApproval renders the direct message asking one approver (slackID)
// to decide, with their link.
func SlackApproval(r *access.Request, slackID, url string, tok link.Token, ask Ask) Message {
	return Message{
		Channel: ChannelSlack, To: slackID,
		Subject: slackSubject(r),
		Slack:   &slack.Approval{Request: slackRequest(r, ask), DecisionURL: url, Token: tok},
	}
}

// SlackNotice renders the channel message that tells the approvers with
// these Slack ids that they were asked, and points them to their own
// links. It carries none.
func SlackNotice(r *access.Request, slackIDs []string, ask Ask) Message {
	return Message{
		Channel: ChannelSlack, To: strings.Join(slackIDs, ", "),
		Subject:     slackSubject(r),
		SlackNotice: &slack.Notice{Request: slackRequest(r, ask), Mentions: slackIDs},
	}
}

func slackSubject(r *access.Request) string {
	return fmt.Sprintf("Approve %s access to %s for %s?", access.FormatDuration(r.Duration), r.Resource, who(r.Requester))
}

func slackRequest(r *access.Request, ask Ask) slack.Request {
	d := newEmailData(r)
	return slack.Request{
		Requester: who(r.Requester), Resource: r.Resource, Target: r.Target.String(),
		Duration: d.Duration, Window: d.Window, Reason: r.Reason,
		Ticket: r.Ticket, TicketURL: r.TicketURL,
		Level: chainLine(r, ask), RequestID: r.ID,
		Expires: ask.LinkExpires.UTC().Format("2006-01-02 15:04 UTC"),
	}
}

// SlackSender posts to Slack, and says how.
type SlackSender interface {
	Sender
	// Direct reports whether messages go to one person each (a bot's
	// direct message) rather than to a channel (an incoming webhook).
	// Only a direct message may carry a decision link.
	Direct(ctx context.Context) (bool, error)
}

// Slack posts to Slack. Its secret is either a bot token (xoxb-…:
// approvals go to each approver as a direct message from the app, with
// buttons that open their decision page) or an incoming-webhook URL
// (notices go to the webhook's channel, mention the approvers and carry
// no link: everyone in the channel, the requester too, could use one as
// the approver it was sent to).
type Slack struct {
	Client *slack.Client
	// Secret returns the webhook URL or bot token.
	Secret func(context.Context) (string, error)
}

// Direct reports whether the secret is a bot token.
func (s *Slack) Direct(ctx context.Context) (bool, error) {
	secret, err := s.Secret(ctx)
	if err != nil {
		return false, fmt.Errorf("slack: %w", err)
	}
	return slack.IsBotToken(secret), nil
}

// Send posts m: an approval (m.Slack) only as a direct message to the
// Slack user m.To, a notice (m.SlackNotice) only through the webhook.
func (s *Slack) Send(ctx context.Context, m Message) error {
	secret, err := s.Secret(ctx)
	if err != nil {
		return fmt.Errorf("slack: %w", err)
	}
	switch {
	case slack.IsBotToken(secret):
		if m.Slack == nil {
			return errors.New("slack: a bot token sends approvals as direct messages; this message is a channel notice")
		}
		if !slack.IsUserID(m.To) {
			return fmt.Errorf("slack: %q is not a Slack user id; a decision link goes only to its approver's direct messages", m.To)
		}
		msg := slack.ApprovalMessage(*m.Slack, slack.LinkButtons)
		msg.Channel = m.To
		return s.Client.PostMessage(ctx, secret, msg)
	case slack.IsWebhookURL(secret):
		if m.SlackNotice == nil {
			return errors.New("slack: an incoming webhook posts to a channel, which never carries a decision link; only notices go there")
		}
		return s.Client.PostWebhook(ctx, secret, slack.NoticeMessage(*m.SlackNotice))
	}
	return errors.New("slack: the configured secret is neither a bot token (xoxb-) nor an incoming-webhook URL (https://hooks.slack.com/services/)")
}
