package notify

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/link"
	"github.com/jitaccess/jit/shared/untrusted"
)

// SMSLimit is what one SMS holds in the GSM-7 alphabet.
const SMSLimit = 160

func init() {
	renderers[ChannelSMS] = func(r *access.Request, _, phone, url string, _ link.Token, _ Ask) (Message, error) {
		return Message{Channel: ChannelSMS, To: phone, Text: SMSText(r, url)}, nil
	}
}

// SMSText renders the approval request as one SMS when it can: who, what,
// for how long, and the decision link; never the reason, which could
// pass for the message's own words in a text that small (url is the link base + /d/{token};
// the token alone is 43 characters, so everything else stays short). It
// tries shorter wordings until one fits in SMSLimit GSM-7 characters and
// falls back to the shortest, which the carrier then splits.
func SMSText(r *access.Request, url string) string {
	who := gsm7Safe(untrusted.Line(who(r.Requester)))
	short := who
	if i := strings.IndexByte(short, '@'); i > 0 {
		short = short[:i]
	}
	res, dur := gsm7Safe(untrusted.Line(r.Resource)), access.FormatDuration(r.Duration)
	candidates := []string{
		fmt.Sprintf("jit: %s asks for %s for %s. Approve or deny: %s", who, res, dur, url),
		fmt.Sprintf("jit: %s asks for %s for %s: %s", who, res, dur, url),
		fmt.Sprintf("jit: %s asks for %s for %s: %s", short, res, dur, url),
		fmt.Sprintf("jit: %s wants %s %s: %s", short, res, dur, url),
	}
	for _, c := range candidates {
		if gsm7Len(c) <= SMSLimit {
			return c
		}
	}
	// Cut the name and the resource, never the link.
	last := func(s, r string) string { return fmt.Sprintf("jit: %s wants %s %s: %s", s, r, dur, url) }
	room := SMSLimit - gsm7Len(last("", ""))
	if room >= 8 {
		a, b := clipTo(short, room/2), ""
		b = clipTo(res, room-gsm7Len(a))
		a = clipTo(short, room-gsm7Len(b))
		return last(a, b)
	}
	return candidates[len(candidates)-1]
}

// clipTo shortens s to n GSM-7 characters, marking the cut with "..".
func clipTo(s string, n int) string {
	if gsm7Len(s) <= n {
		return s
	}
	if n <= 2 {
		return ""
	}
	out := []rune{}
	for _, r := range s {
		if gsm7Len(string(append(out, r)))+2 > n {
			break
		}
		out = append(out, r)
	}
	return string(out) + ".."
}

// The GSM 03.38 alphabet: its basic set counts one septet per character,
// its extension set two. Anything else would switch the whole message to
// UCS-2, where one SMS holds 70 characters.
const (
	gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Ext   = "^{}\\[~]|€\f"
)

// gsm7Len counts s in GSM-7 septets (characters outside the alphabet
// count one here; gsm7Safe removes them first).
func gsm7Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if strings.ContainsRune(gsm7Ext, r) {
			n++
		}
	}
	return n
}

// gsm7Safe replaces characters outside the GSM-7 alphabet with '?', so a
// stray character in user text cannot cut the message's capacity by half.
func gsm7Safe(s string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(gsm7Basic, r) || strings.ContainsRune(gsm7Ext, r) {
			return r
		}
		return '?'
	}, s)
}

// SNS sends SMS through Amazon SNS (Publish to a phone number).
type SNS struct {
	API interface {
		Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error)
	}
}

// Send publishes m.Text to the phone number m.To as a transactional SMS
// (delivered ahead of promotional traffic, and sent to numbers on
// do-not-disturb lists).
func (s *SNS) Send(ctx context.Context, m Message) error {
	_, err := s.API.Publish(ctx, &sns.PublishInput{
		PhoneNumber: aws.String(m.To),
		Message:     aws.String(m.Text),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"AWS.SNS.SMS.SMSType": {DataType: aws.String("String"), StringValue: aws.String("Transactional")},
		},
	})
	if err != nil {
		return fmt.Errorf("send sms to %s: %w", m.To, err)
	}
	return nil
}
