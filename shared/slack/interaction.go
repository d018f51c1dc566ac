package slack

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jitaccess/jit/shared/link"
)

// Decisions an interaction asks for.
const (
	DecisionApprove = "approve"
	DecisionDeny    = "deny"
)

// Interaction is a click on one of the decision buttons of an approval
// message (ActionButtons), as Slack reports it to the app's interactivity
// URL.
//
// It says what the person clicking asked for; it proves nothing by itself.
// The caller must have verified the request's signature (Verify) and must
// check that UserID is the Slack id of the approver the link was sent to
// before deciding anything.
type Interaction struct {
	// Action is DecisionApprove ("approve") or DecisionDeny ("deny").
	Action string
	// Token is the decision link's token, from the button's value.
	Token link.Token
	// UserID and TeamID are who clicked, in which workspace.
	UserID, TeamID string
	// ResponseURL is where to post the result (ResultMessage); empty
	// unless it is one of Slack's own hooks URLs.
	ResponseURL string
}

// ErrNotDecision is returned for an interaction that is not a click on a
// jit decision button (another app action, a view submission, a
// shortcut): answer it 200 and ignore it.
var ErrNotDecision = errors.New("slack: not a jit decision")

// MaxInteractionBytes bounds the body ParseInteraction reads.
const MaxInteractionBytes = 64 << 10

// ParseInteraction reads an interactivity request body
// (application/x-www-form-urlencoded, with the JSON in its payload field).
func ParseInteraction(body []byte) (*Interaction, error) {
	if len(body) > MaxInteractionBytes {
		return nil, fmt.Errorf("slack: interaction of %d bytes is larger than %d", len(body), MaxInteractionBytes)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("slack: interaction body: %w", err)
	}
	raw := form.Get("payload")
	if raw == "" {
		return nil, errors.New("slack: interaction has no payload")
	}
	var p struct {
		Type string `json:"type"`
		User struct {
			ID     string `json:"id"`
			TeamID string `json:"team_id"`
		} `json:"user"`
		Team struct {
			ID string `json:"id"`
		} `json:"team"`
		ResponseURL string `json:"response_url"`
		Actions     []struct {
			ActionID string `json:"action_id"`
			BlockID  string `json:"block_id"`
			Value    string `json:"value"`
		} `json:"actions"`
	}
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return nil, fmt.Errorf("slack: interaction payload: %w", err)
	}
	if p.Type != "block_actions" || len(p.Actions) != 1 {
		return nil, ErrNotDecision
	}
	a := p.Actions[0]
	in := &Interaction{UserID: p.User.ID, TeamID: p.Team.ID}
	switch a.ActionID {
	case ActionApprove:
		in.Action = DecisionApprove
	case ActionDeny:
		in.Action = DecisionDeny
	default:
		return nil, ErrNotDecision
	}
	if in.TeamID == "" {
		in.TeamID = p.User.TeamID
	}
	if in.UserID == "" {
		return nil, errors.New("slack: interaction names no user")
	}
	if in.Token, err = link.Parse(a.Value); err != nil {
		return nil, fmt.Errorf("slack: button value: %w", err)
	}
	if slackHook(p.ResponseURL) {
		in.ResponseURL = p.ResponseURL
	}
	return in, nil
}

// slackHook accepts only https URLs on hooks.slack.com, so a forged
// response_url cannot make the service post elsewhere.
func slackHook(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host == "hooks.slack.com" && u.User == nil && strings.HasPrefix(u.Path, "/")
}
