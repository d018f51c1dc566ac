package slack

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/jitaccess/jit/shared/link"
	"github.com/jitaccess/jit/shared/untrusted"
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
	// Verbatim (mrkdwn only) turns off Slack's automatic linking of URLs,
	// channel names and mentions in the text.
	Verbatim bool `json:"verbatim,omitempty"`
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

// Request is what a message says about the request. Fields are plain
// text as people typed them; the builders clean and escape them.
type Request struct {
	Requester string
	Resource  string
	Target    string
	Duration  string
	Window    string
	Reason    string
	Ticket    string
	TicketURL string
	// Level says where the chain stands ("Level 1 of 2 (team lead): 1
	// approval needed").
	Level     string
	RequestID string
	// Expires is when the approvers' decision links expire.
	Expires string
}

// Approval is a direct message asking one approver to decide. It carries
// that approver's decision link, so it must only ever be posted to them
// (chat.postMessage to their user id), never to a channel.
type Approval struct {
	Request
	// DecisionURL is the decision page (for LinkButtons).
	DecisionURL string
	// Token is the link token (for ActionButtons).
	Token link.Token
}

// Notice tells a channel (an incoming webhook's) that approvers were
// asked to decide. It carries no decision link: anyone in the channel,
// the requester too, could use one as the approver it was sent to.
type Notice struct {
	Request
	// Mentions are the Slack user ids of the approvers asked.
	Mentions []string
}

// Block Kit limits the builders respect.
const (
	maxFieldText   = 2000
	maxSectionText = 3000
	maxHeaderText  = 150
)

// ApprovalMessage builds the direct message asking an approver to decide.
func ApprovalMessage(a Approval, b Buttons) Message {
	title := "Approve " + a.Duration + " access to " + a.Resource + " for " + a.Requester + "?"
	blocks := requestBlocks(a.Request, title, "*"+esc(a.Requester)+"* asks for access.")
	blocks = append(blocks,
		Block{Type: "actions", BlockID: BlockDecisions, Elements: decisionButtons(a, b)},
		Block{Type: "context", Elements: []any{mrkdwn(contextLine(a, b))}},
	)
	return Message{Text: fallback(a.Request) + " Approve or deny in jit.", Blocks: blocks}
}

// NoticeMessage builds the channel message that says who was asked to
// decide; each of them decides through the link sent to them alone.
func NoticeMessage(n Notice) Message {
	var mentions []string
	for _, id := range n.Mentions {
		if IsUserID(id) {
			mentions = append(mentions, "<@"+id+">")
		}
	}
	intro := "*" + esc(n.Requester) + "* asks for access."
	if len(mentions) > 0 {
		intro = strings.Join(mentions, " ") + ": " + intro
	}
	s := "Request " + esc(n.RequestID) + ". Each approver decides through the link sent to them alone, " +
		"by email, SMS or a direct message from the app; nothing in this channel decides."
	if n.Expires != "" {
		s += " The links expire " + esc(n.Expires) + "."
	}
	title := "Approval asked: " + n.Duration + " access to " + n.Resource + " for " + n.Requester
	blocks := append(requestBlocks(n.Request, title, intro), Block{Type: "context", Elements: []any{mrkdwn(s)}})
	return Message{Text: fallback(n.Request) + " Approvers decide through their own links.", Blocks: blocks}
}

// requestBlocks are the header, intro, facts and quoted reason both
// messages show.
func requestBlocks(r Request, title, intro string) []Block {
	fields := []Text{
		mrkdwn("*Resource*\n" + esc(r.Resource) + "\n" + esc(r.Target)),
		mrkdwn("*Duration*\n" + esc(r.Duration) + ", " + esc(r.Window)),
	}
	if r.Ticket != "" {
		t := esc(r.Ticket)
		if safeURL(r.TicketURL) {
			t = "<" + r.TicketURL + "|" + t + ">"
		}
		fields = append(fields, mrkdwn("*Ticket*\n"+t))
	}
	if r.Level != "" {
		fields = append(fields, mrkdwn("*Approval*\n"+esc(r.Level)))
	}
	return []Block{
		{Type: "header", Text: &Text{Type: "plain_text", Text: truncate(untrusted.Line(title), maxHeaderText)}},
		{Type: "section", Text: ptr(md(intro, maxSectionText))},
		{Type: "section", Fields: fields},
		{Type: "section", Text: ptr(md("*Reason*, as the requester wrote it:\n"+quote(r.Reason), maxSectionText))},
	}
}

// fallback is the notification text (mrkdwn, but not verbatim: it carries
// no reason or ticket).
func fallback(r Request) string {
	return esc(r.Requester) + " asks for " + esc(r.Duration) + " access to " + esc(r.Resource) + "."
}

// quote renders user text as a block quote, one line per line it has, so
// it reads as the requester's words and not as the message's.
func quote(s string) string {
	lines := untrusted.Lines(s)
	if len(lines) == 0 {
		return "> _none given_"
	}
	for i, l := range lines {
		lines[i] = "> " + Escape(l)
	}
	return strings.Join(lines, "\n")
}

func contextLine(a Approval, b Buttons) string {
	s := "Request " + esc(a.RequestID) + ". "
	if b == LinkButtons {
		s += "Each button opens a page where you confirm. The link is for you alone: anyone you forward it to can decide as you. It works once"
	} else {
		s += "Only you can decide with these buttons; they work once"
	}
	if a.Expires != "" {
		s += " and expire"
		if b == LinkButtons {
			s += "s"
		}
		s += " " + esc(a.Expires)
	}
	return s + "."
}

func decisionButtons(a Approval, b Buttons) []any {
	approve := Button{Type: "button", Text: Text{Type: "plain_text", Text: "Approve"}, ActionID: ActionApprove, Style: "primary"}
	deny := Button{Type: "button", Text: Text{Type: "plain_text", Text: "Deny"}, ActionID: ActionDeny, Style: "danger"}
	switch b {
	case ActionButtons:
		approve.Value, deny.Value = a.Token.Reveal(), a.Token.Reveal()
		what := esc(a.Duration) + " access to " + esc(a.Resource) + " for " + esc(a.Requester)
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
		Blocks:          []Block{{Type: "section", Text: ptr(md(esc(text), maxSectionText))}},
		ReplaceOriginal: true,
	}
}

// Escape makes s safe inside mrkdwn: Slack's three control characters
// are replaced, as Slack's formatting reference asks, so user text cannot
// mention @channel or forge a link.
func Escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// esc is Escape of s on one line.
func esc(s string) string { return Escape(untrusted.Line(s)) }

// IsUserID reports whether id is a Slack user id (U…, or W… in an
// Enterprise Grid), the only kind of id a direct message goes to.
func IsUserID(id string) bool { return userID.MatchString(id) }

var userID = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)

// mrkdwn is a field or context text; md one of another limit. Every
// mrkdwn text is verbatim: Slack then links no URL, channel name or
// mention by itself, only the <…> the builders write.
func mrkdwn(s string) Text { return md(s, maxFieldText) }

func md(s string, limit int) Text {
	return Text{Type: "mrkdwn", Text: truncate(s, limit), Verbatim: true}
}

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
