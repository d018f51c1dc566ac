package notify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

func TestSMSTextGolden(t *testing.T) {
	apiGW := "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
	base := chainRequest()
	ci := chainRequest()
	ci.Requester = "arn:aws:sts::123456789012:assumed-role/GitHubActions/ci-deploy"
	ci.Duration = 15 * time.Minute
	long := chainRequest()
	long.Requester = "arn:aws:sts::123456789012:assumed-role/Engineer/maximilian.mustermann-schmidt@subsidiary.example.com"
	long.Resource = "payments-production-database-administrator-break-fix"
	long.Duration = 2*time.Hour + 30*time.Minute
	odd := chainRequest()
	odd.Requester = "arn:aws:sts::123456789012:assumed-role/Engineer/zoë`dev{x}@example.com"

	cases := []struct {
		name string
		r    func() string
		fits bool
	}{
		{"sms-custom-domain", func() string { return SMSText(base, linkBase+"/d/"+testToken) }, true},
		{"sms-api-gateway", func() string { return SMSText(base, apiGW+"/d/"+testToken) }, true},
		{"sms-ci-requester", func() string { return SMSText(ci, apiGW+"/d/"+testToken) }, true},
		{"sms-long-names", func() string { return SMSText(long, apiGW+"/d/"+testToken) }, true},
		{"sms-non-gsm", func() string { return SMSText(odd, apiGW+"/d/"+testToken) }, true},
		{"sms-url-too-long", func() string {
			return SMSText(base, "https://decisions.internal.approvals.platform-team.corp.example.com/just-in-time-access/production/d/"+testToken)
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := c.r()
			golden(t, c.name+".golden", s+"\n")
			if c.fits && gsm7Len(s) > SMSLimit {
				t.Errorf("%d septets, more than one SMS: %s", gsm7Len(s), s)
			}
			if !strings.Contains(s, "/d/"+testToken) {
				t.Errorf("SMS lacks the whole link: %s", s)
			}
			if gsm7Safe(s) != s {
				t.Errorf("SMS has characters outside GSM-7: %q", s)
			}
		})
	}
}

func TestGSM7(t *testing.T) {
	if n := gsm7Len("a{b}€"); n != 8 {
		t.Errorf("gsm7Len = %d, want 8 (extension characters count two)", n)
	}
	if s := gsm7Safe("zoë`ü✓"); s != "zo???ü?" && s != "zo??ü?" {
		t.Errorf("gsm7Safe = %q", s)
	}
}

type fakeSNS struct{ in *sns.PublishInput }

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.in = in
	return &sns.PublishOutput{MessageId: aws.String("m-1")}, nil
}

func TestSNSSend(t *testing.T) {
	api := &fakeSNS{}
	if err := (&SNS{API: api}).Send(context.Background(), Message{Channel: ChannelSMS, To: "+15555550102", Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	if aws.ToString(api.in.PhoneNumber) != "+15555550102" || aws.ToString(api.in.Message) != "hello" || api.in.TopicArn != nil {
		t.Errorf("publish input = %+v", api.in)
	}
	if v := api.in.MessageAttributes["AWS.SNS.SMS.SMSType"]; aws.ToString(v.StringValue) != "Transactional" {
		t.Errorf("SMS type = %+v", v)
	}
}
