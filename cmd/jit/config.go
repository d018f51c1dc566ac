package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/smithy-go"
)

// configError is a problem with the setup (profile, region, API URL), with
// what to do about it.
type configError struct {
	msg, hint string
}

func (e *configError) Error() string { return e.msg }

// loadAWSConfig loads the standard AWS configuration: environment, shared
// files, --profile, SSO, web identity, container and instance roles. It
// honours AWS_ENDPOINT_URL, which is how the local cloud's STS is reached.
func loadAWSConfig(ctx context.Context, g *globals) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if g.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(g.profile))
	}
	if g.region != "" {
		opts = append(opts, config.WithRegion(g.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		var pe config.SharedConfigProfileNotExistError
		if errors.As(err, &pe) {
			return aws.Config{}, &configError{msg: fmt.Sprintf("AWS profile %q does not exist", pe.Profile),
				hint: "check --profile / AWS_PROFILE; `aws configure list-profiles` lists the profiles you have"}
		}
		return aws.Config{}, &configError{msg: "load AWS configuration: " + err.Error(),
			hint: "check ~/.aws/config, AWS_PROFILE and AWS_CONFIG_FILE"}
	}
	return cfg, nil
}

// session is what a command needs to talk to AWS and the API.
type session struct {
	aws    aws.Config
	api    *client
	region string
}

// executeAPIHost matches a default API Gateway endpoint; its region is the
// one to sign for, whatever the local AWS config says.
var executeAPIHost = regexp.MustCompile(`^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$`)

// connect loads AWS configuration and finds the API.
func (a *app) connect(ctx context.Context) (*session, error) {
	cfg, err := a.loadAWS(ctx, &a.g)
	if err != nil {
		return nil, err
	}
	apiURL, source, err := a.apiURL(ctx, cfg)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, &configError{msg: fmt.Sprintf("API URL %q (from %s) is not an http(s) URL", apiURL, source),
			hint: "set --api-url or JIT_API_URL to the API's base URL, e.g. https://abc123.execute-api.us-east-1.amazonaws.com"}
	}
	region := cfg.Region
	if m := executeAPIHost.FindStringSubmatch(u.Hostname()); m != nil {
		region = m[1]
	}
	if region == "" {
		return nil, &configError{msg: "no AWS region",
			hint: "set AWS_REGION, pass --region, or set region in your AWS profile"}
	}
	if cfg.Region == "" {
		cfg.Region = region
	}
	logf := func(string, ...any) {}
	if a.g.verbose {
		logf = func(format string, args ...any) { fmt.Fprintf(a.stderr, "jit: "+format+"\n", args...) }
	}
	logf("API %s (from %s), signing for execute-api in %s", u.Redacted(), source, region)
	creds := cfg.Credentials
	if creds == nil {
		creds = aws.AnonymousCredentials{}
	}
	return &session{aws: cfg, region: region, api: &client{
		base: u, source: source, region: region, creds: creds, hc: a.http,
		signer: v4.NewSigner(), now: a.now, logf: logf, retry: a.retry,
	}}, nil
}

// apiURL is --api-url, else JIT_API_URL, else the ApiUrl output of the
// CloudFormation stack.
func (a *app) apiURL(ctx context.Context, cfg aws.Config) (string, string, error) {
	if a.g.apiURL != "" {
		return a.g.apiURL, "--api-url", nil
	}
	if v := a.getenv("JIT_API_URL"); v != "" {
		return v, "JIT_API_URL", nil
	}
	stack := a.g.stack
	if v := a.getenv("JIT_STACK"); v != "" && stack == "jit" {
		stack = v
	}
	hint := fmt.Sprintf("set JIT_API_URL (or --api-url) to the API's base URL, or deploy the stack %q (--stack names another)", stack)
	if cfg.Region == "" {
		return "", "", &configError{msg: "no API URL and no AWS region to look up the stack in", hint: hint + "; locally: JIT_API_URL=http://127.0.0.1:3000"}
	}
	out, err := cloudformation.NewFromConfig(cfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		var oe *smithy.OperationError
		msg := err.Error()
		if errors.As(err, &oe) {
			msg = oe.Unwrap().Error()
		}
		return "", "", &configError{msg: fmt.Sprintf("no API URL: looking up stack %q in %s failed: %s", stack, cfg.Region, msg), hint: hint}
	}
	for _, s := range out.Stacks {
		for _, o := range s.Outputs {
			if aws.ToString(o.OutputKey) == "ApiUrl" && aws.ToString(o.OutputValue) != "" {
				return strings.TrimRight(aws.ToString(o.OutputValue), "/"), fmt.Sprintf("stack %s output ApiUrl", stack), nil
			}
		}
	}
	return "", "", &configError{msg: fmt.Sprintf("stack %q in %s has no ApiUrl output", stack, cfg.Region), hint: hint}
}
