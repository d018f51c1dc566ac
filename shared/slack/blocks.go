package slack

import (
	"strings"
	"unicode/utf8"

	"github.com/jitaccess/jit/shared/link"
)

// Message is a Slack message: what an incoming webhook or chat.postMessage
// takes, and what a response_url accepts.
type Message struct {
	// Channel is where chat.postMessage posts (a user id opens the DM with
	// the app); incoming webhooks ignore it.
	Channel string `json:"channel,omitempty"`
	// Text is the notification and accessibility fallback for Blocks.
	Text   string  `json:"text"`
	Blocks []Block `json:"blocks,omitempty"`
	// UnfurlLinks and UnfurlMedia are always false: a decision link must
	// not be fetched for a preview.
	UnfurlLinks bool `json:"unfurl_links"`
	UnfurlMedia bool `json:"unfurl_media"`
	// ReplaceOriginal, for a response_url, replaces the message the button
	// was on (so its buttons disappear once used).
	ReplaceOriginal bool `json:"replace_original,omitempty"`
}

// Block is one Block Kit layout block (header, section, actions, context,
// divider); only the fields its type uses are set.
type Block struct {
	Type     string `json:"type"`
	BlockID  string `json:"block_id,omitempty"`
	Text     *Text  `json:"text,omitempty"`
	Fields   []Text `json:"fields,omitempty"`
	Elements []any  `json:"elements,omitempty"`
}

// Text is a Block Kit text object.
type Text struct {
	Type string `json:"type"` // plain_text or mrkdwn
	Text string `json:"text"`
}

// Button is a Block Kit button element. A link button has URL (Slack opens
// it); an interactive one has Value, sent to the app's interactivity URL.
type Button struct {
	Type     string `json:"type"`
	Text     Text   `json:"text"`
	ActionID string `json:"action_id"`
	URL      string `json:"url,omitempty"`
	Value    string `json:"value,omitempty"`
	Style    string `json:"style,omitempty"`
	// Confirm asks "are you sure?" before an interactive button acts.
	Confirm *Confirm `json:"confirm,omitempty"`
}

// Confirm is a Block Kit confirmation dialog.
type Confirm struct {
	Title   Text   `json:"title"`
	Text    Text   `json:"text"`
	Confirm Text   `json:"confirm"`
	Deny    Text   `json:"deny"`
	Style   string `json:"style,omitempty"`
}

// Action ids of the decision buttons and the block that holds them.
const (
	ActionApprove  = "jit_approve"
	ActionDeny     = "jit_deny"
	BlockDecisions = "jit_decision"
)

// Buttons chooses how the decision buttons work.
type Buttons int

const (
	// LinkButtons open the decision page (?decision=approve|deny), where
	// the approver confirms: works with incoming webhooks and needs nothing
	// from the app.
	LinkButtons Buttons = iota
	// ActionButtons carry the link token as their value and decide through
	// the app's interactivity endpoint (see ParseInteraction).
	ActionButtons
)

// Approval is what an approval message shows. Fields are plain text;
// the builder escapes them.
type Approval struct {
	Requester string
	Resource  string
	RoleARN   string
	Duration  string
	Window    string
	Reason    string
	Ticket    string
	TicketURL string
	// Level says where the chain stands ("Level 1 of 2 (team lead): 1
	// approval needed").
	Level     string
	RequestID string
	Expires   string
	// Mention is the approver's Slack user id, mentioned so a message
	// posted to a channel notifies them.
	Mention string
	// DecisionURL is the decision page (for LinkButtons).
	DecisionURL string
	// Token is the link token (for ActionButtons).
	Token link.Token
}

// Block Kit limits the builders respect.
const (
	maxFieldText   = 2000
	maxSectionText = 3000
	maxHeaderText  = 150
)

// ApprovalMessage builds the message asking an approver to decide.
func ApprovalMessage(a Approval, b Buttons) Message {
	who := Escape(a.Requester)
	title := "Approve " + a.Duration + " access to " + a.Resource + " for " + a.Requester + "?"
	intro := "*" + who + "* asks for access."
	if a.Mention != "" {
		intro = "<@" + a.Mention + "> " + intro
	}
	fields := []Text{
		mrkdwn("*Resource*\n" + Escape(a.Resource) + "\n" + Escape(a.RoleARN)),
		mrkdwn("*Duration*\n" + Escape(a.Duration) + ", " + Escape(a.Window)),
	}
	if a.Ticket != "" {
		t := Escape(a.Ticket)
		if safeURL(a.TicketURL) {
			t = "<" + a.TicketURL + "|" + t + ">"
		}
		fields = append(fields, mrkdwn("*Ticket*\n"+t))
	}
	if a.Level != "" {
		fields = append(fields, mrkdwn("*Approval*\n"+Escape(a.Level)))
	}
	blocks := []Block{
		{Type: "header", Text: &Text{Type: "plain_text", Text: truncate(title, maxHeaderText)}},
		{Type: "section", Text: ptr(md(intro, maxSectionText))},
		{Type: "section", Fields: fields},
		{Type: "section", Text: ptr(md("*Reason*\n"+Escape(a.Reason), maxSectionText))},
		{Type: "actions", BlockID: BlockDecisions, Elements: decisionButtons(a, b)},
		{Type: "context", Elements: []any{mrkdwn(contextLine(a, b))}},
	}
	return Message{
		Text:   a.Requester + " asks for " + a.Duration + " access to " + a.Resource + ". Approve or deny in jit.",
		Blocks: blocks,
	}
}

func contextLine(a Approval, b Buttons) string {
	s := "Request " + Escape(a.RequestID) + ". "
	if b == LinkButtons {
		s += "Each button opens a page where you confirm. The link is for you alone, works once"
	} else {
		s += "Only you can decide with these buttons; they work once"
	}
	if a.Expires != "" {
		s += " and expire"
		if b == LinkButtons {
			s += "s"
		}
		s += " " + Escape(a.Expires)
	}
	return s + "."
}

func decisionButtons(a Approval, b Buttons) []any {
	approve := Button{Type: "button", Text: Text{Type: "plain_text", Text: "Approve"}, ActionID: ActionApprove, Style: "primary"}
	deny := Button{Type: "button", Text: Text{Type: "plain_text", Text: "Deny"}, ActionID: ActionDeny, Style: "danger"}
	switch b {
	case ActionButtons:
		approve.Value, deny.Value = a.Token.Reveal(), a.Token.Reveal()
		what := Escape(a.Duration) + " access to " + Escape(a.Resource) + " for " + Escape(a.Requester)
		approve.Confirm = &Confirm{
			Title: Text{Type: "plain_text", Text: "Approve access?"}, Text: mrkdwn("Approve " + what + "?"),
			Confirm: Text{Type: "plain_text", Text: "Approve"}, Deny: Text{Type: "plain_text", Text: "Cancel"},
		}
		deny.Confirm = &Confirm{
			Title: Text{Type: "plain_text", Text: "Deny access?"}, Text: mrkdwn("Deny " + what + "?"),
			Confirm: Text{Type: "plain_text", Text: "Deny"}, Deny: Text{Type: "plain_text", Text: "Cancel"}, Style: "danger",
		}
	default:
		approve.URL, deny.URL = a.DecisionURL+"?decision=approve", a.DecisionURL+"?decision=deny"
	}
	return []any{approve, deny}
}

// ResultMessage replaces an approval message once it was used: the
// outcome in words, no buttons.
func ResultMessage(text string) Message {
	return Message{
		Text:            text,
		Blocks:          []Block{{Type: "section", Text: ptr(md(Escape(text), maxSectionText))}},
		ReplaceOriginal: true,
	}
}

// Escape makes s safe inside mrkdwn: Slack's three control characters
// are replaced, so user text cannot mention @channel or forge a link.
func Escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// mrkdwn is a field or context text; md one of another limit.
func mrkdwn(s string) Text { return md(s, maxFieldText) }

func md(s string, limit int) Text { return Text{Type: "mrkdwn", Text: truncate(s, limit)} }

func ptr[T any](v T) *T { return &v }

// truncate cuts s to at most n characters, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// safeURL accepts only http(s) links without characters that would break
// out of Slack's <url|text> syntax.
func safeURL(u string) bool {
	return (strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) && !strings.ContainsAny(u, "<>| \n")
}
