package decision

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/channel"
	"github.com/jitaccess/jit/shared/policy"
	"github.com/jitaccess/jit/shared/slack"
	"github.com/jitaccess/jit/shared/store"
)

// SlackApp is what Slack's interactivity endpoint needs: the app's signing
// secret, the policy (to map the clicking Slack user to the approver the
// link was sent to), and a way to post the outcome back to the message.
type SlackApp struct {
	// Secret returns the signing secret; an error means Slack is not set up.
	Secret func(ctx context.Context) (string, error)
	// Policies returns an applied policy version.
	Policies interface {
		PolicyVersion(ctx context.Context, version int) (*store.PolicyVersion, error)
	}
	// Reply posts the result to the interaction's response URL (nil: no
	// reply, e.g. locally).
	Reply func(ctx context.Context, responseURL string, m slack.Message) error
	// TeamID is the workspace the app serves; a click from any other is
	// refused. Empty accepts any workspace the app is installed in.
	TeamID string
}

// slack handles a click on an Approve or Deny button of a Slack message:
// the request must carry Slack's valid signature, the button's link must
// be a slack-channel link, and the user clicking must be the approver that
// link was sent to. Then it decides exactly as the page would.
func (h *Handler) slack(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	if h.Slack == nil {
		return slackText(http.StatusNotFound, "Slack is not set up for this deployment.")
	}
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return slackText(http.StatusBadRequest, "unreadable body")
		}
		body = b
	}
	secret, err := h.Slack.Secret(ctx)
	if err != nil {
		// Without its secret the endpoint cannot tell Slack from anyone
		// else: it does not exist until the secret is stored.
		h.Logger.WarnContext(ctx, "slack signing secret", "error", err.Error())
		return slackText(http.StatusNotFound, "Slack is not set up for this deployment.")
	}
	if err := slack.VerifyEvent([]byte(secret), req.Headers, body, h.Now()); err != nil {
		return slackText(http.StatusUnauthorized, "invalid Slack signature")
	}
	in, err := slack.ParseInteraction(body)
	if errors.Is(err, slack.ErrNotDecision) {
		return slackText(http.StatusOK, "")
	}
	if err != nil {
		return slackText(http.StatusBadRequest, "unreadable interaction")
	}
	if h.Slack.TeamID != "" && in.TeamID != h.Slack.TeamID {
		h.Logger.WarnContext(ctx, "slack click from another workspace", "team", in.TeamID)
		return slackText(http.StatusOK, "This button belongs to another Slack workspace; nothing was decided.")
	}
	l, err := h.Store.GetLink(ctx, in.Token.Hash())
	if errors.Is(err, access.ErrNotFound) || (err == nil && l.Channel != "slack") {
		return h.slackReply(ctx, in, http.StatusOK, "This button is not valid.")
	}
	if err != nil {
		h.Logger.ErrorContext(ctx, "slack link", "error", err.Error())
		return slackText(http.StatusInternalServerError, "Something went wrong; nothing was decided.")
	}
	r, err := h.Store.GetRequest(ctx, l.RequestID)
	if err != nil {
		h.Logger.ErrorContext(ctx, "slack request", "error", err.Error())
		return slackText(http.StatusInternalServerError, "Something went wrong; nothing was decided.")
	}
	if ok, err := h.slackUserIsApprover(ctx, r, l.Approver, in.UserID); err != nil {
		h.Logger.ErrorContext(ctx, "slack approver", "error", err.Error())
		return slackText(http.StatusInternalServerError, "Something went wrong; nothing was decided.")
	} else if !ok {
		return h.slackReply(ctx, in, http.StatusOK, "Only "+l.Approver+" can decide with this button.")
	}
	outcome := access.Approved
	if in.Action == "deny" {
		outcome = access.Denied
	}
	status, p := h.decide(ctx, l, r, outcome, "")
	if status == http.StatusInternalServerError {
		h.Logger.ErrorContext(ctx, "slack decision", "error", p.Message)
		return slackText(http.StatusInternalServerError, "Something went wrong; nothing was decided.")
	}
	return h.slackReply(ctx, in, http.StatusOK, strings.TrimSpace(p.Title+": "+p.Message))
}

// slackUserIsApprover checks the Slack user against the approver's Slack
// id in the policy version the request was made under.
func (h *Handler) slackUserIsApprover(ctx context.Context, r *access.Request, approver, userID string) (bool, error) {
	pv, err := h.Slack.Policies.PolicyVersion(ctx, r.PolicyVersion)
	if err != nil {
		return false, err
	}
	doc, err := policy.Parse(pv.Document)
	if err != nil {
		return false, err
	}
	res, ok := doc.Resource(r.Resource)
	if !ok || userID == "" {
		return false, nil
	}
	for _, l := range res.Approval.Levels {
		for _, a := range append(append([]policy.Approver{}, l.Approvers...), l.EscalateTo...) {
			if strings.EqualFold(a.Email, approver) && a.Address(channel.Slack) != "" && a.Address(channel.Slack) == userID {
				return true, nil
			}
		}
	}
	return false, nil
}

// slackReplyBudget bounds the post to the response URL: Slack shows the
// click as failed unless the interaction is answered within 3 seconds
// (api.slack.com, "Handling user interaction": acknowledgment response),
// and the decision before it has used some of them.
const slackReplyBudget = time.Second

// slackReply posts the result to the message's response URL (when there
// is one) and answers the click.
func (h *Handler) slackReply(ctx context.Context, in *slack.Interaction, status int, text string) events.APIGatewayV2HTTPResponse {
	if h.Slack.Reply != nil && in.ResponseURL != "" {
		ctx, cancel := context.WithTimeout(ctx, slackReplyBudget)
		defer cancel()
		if err := h.Slack.Reply(ctx, in.ResponseURL, slack.ResultMessage(text)); err != nil {
			h.Logger.ErrorContext(ctx, "slack reply", "error", err.Error())
		}
	}
	return slackText(status, text)
}

func slackText(status int, text string) events.APIGatewayV2HTTPResponse {
	b, _ := json.Marshal(map[string]any{"response_type": "ephemeral", "replace_original": false, "text": text})
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"}, Body: string(b)}
}
