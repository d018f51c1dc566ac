package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os/exec"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/jitaccess/jit/shared/access"
)

var credsCommand = &command{
	name: "creds", args: "<request-id> [--format env|json|credential-process] [--duration-seconds N]",
	summary: "print credentials of an active request (env exports, JSON, credential_process)",
	about: `Take the role of an active request: jit reads the request, checks it is active,
and calls sts:AssumeRole on its role with the session name the grant is bound
to (the last part of your principal ARN), using the same AWS credentials and
endpoint configuration as every other call (AWS_ENDPOINT_URL included).

Formats:
  env                 export lines for a shell: eval "$(jit creds ID)"
  json                {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration", ...}
  credential-process  the AWS CLI/SDK credential_process format (Version 1)

The session lasts --duration-seconds, by default the rest of the grant's window
(at least 900s, STS's minimum, and at most 3600s). A session started before
the window ends outlives it on paper, but the grant's end denies its calls.

IAM applies a new grant's trust statement within seconds, not at once: an
AccessDenied from sts:AssumeRole within 60s of the grant's activation is
retried (1s, 2s, 4s, then every 5s), with a line on stderr for each retry.`,
	examples: `  eval "$(jit creds 01jb2k3m4n5p6q7r8s9t0vwxyz)"
  jit creds 01jb2k3m4n5p6q7r8s9t0vwxyz --format json | jq -r .Expiration
  # ~/.aws/config (use --profile for the identity jit itself signs with):
  #   [profile sandbox-jit]
  #   credential_process = jit creds 01jb2k3m4n5p6q7r8s9t0vwxyz --format credential-process --profile work`,
	setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string, []string) error {
		format := fs.String("format", "env", "`FORMAT` of the credentials: env, json or credential-process")
		dur := fs.Int("duration-seconds", 0, "session length in `SECONDS` (900-43200, within the role's maximum; default: the rest of the window, 900-3600)")
		return func(ctx context.Context, pos, _ []string) error {
			formatSet := false
			fs.Visit(func(f *flag.Flag) { formatSet = formatSet || f.Name == "format" })
			if a.json() && !formatSet {
				*format = "json"
			}
			switch *format {
			case "env", "json", "credential-process":
			default:
				return usageErr("--format must be env, json or credential-process, not %q", *format)
			}
			if a.json() && *format != "json" {
				return usageErr("--output json and --format %s disagree; pick one", *format)
			}
			id, err := requestID(pos)
			if err != nil {
				return err
			}
			if err := checkSessionSeconds(*dur); err != nil {
				return err
			}
			s, err := a.connect(ctx)
			if err != nil {
				return err
			}
			c, err := a.assume(ctx, s, id, *dur)
			if err != nil {
				return err
			}
			return a.printCreds(c, *format)
		}
	},
}

var execCommand = &command{
	name: "exec", args: "<request-id> [--duration-seconds N] -- <command> [args...]",
	summary: "run a command with an active request's role credentials",
	about: `Run a command with the role of an active request: AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN are set in its environment, plus
AWS_CREDENTIAL_EXPIRATION, JIT_REQUEST_ID, and AWS_REGION / AWS_DEFAULT_REGION
where missing; the rest of the environment is passed on. jit replaces itself
with the command, so its exit code, signals and output are the command's own
(127 if it is not found, 126 if it cannot run). Credentials are taken as
jit creds takes them.`,
	examples: `  jit exec 01jb2k3m4n5p6q7r8s9t0vwxyz -- aws sts get-caller-identity
  jit exec 01jb2k3m4n5p6q7r8s9t0vwxyz -- terraform apply -auto-approve
  jit exec 01jb2k3m4n5p6q7r8s9t0vwxyz -- sh -c 'aws s3 ls && ./deploy.sh'`,
	setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string, []string) error {
		dur := fs.Int("duration-seconds", 0, "session length in `SECONDS` (as for jit creds)")
		return func(ctx context.Context, pos, argv []string) error {
			if len(pos) > 1 {
				return usageErr("put the command after --: jit exec %s -- %s", pos[0], strings.Join(pos[1:], " "))
			}
			id, err := requestID(pos)
			if err != nil {
				return err
			}
			if len(argv) == 0 {
				return usageErr("missing the command: jit exec %s -- aws sts get-caller-identity", id)
			}
			if err := checkSessionSeconds(*dur); err != nil {
				return err
			}
			s, err := a.connect(ctx)
			if err != nil {
				return err
			}
			c, err := a.assume(ctx, s, id, *dur)
			if err != nil {
				return err
			}
			env := childEnv(a.environ(), c, s.region)
			path, err := exec.LookPath(argv[0])
			if err != nil {
				return &exitError{Code: 127, Kind: "command_not_found", Message: fmt.Sprintf("%s: command not found", argv[0]),
					Hint: "check the command name and PATH"}
			}
			if err := a.execve(path, argv, env); err != nil {
				var ee *exitError
				if errors.As(err, &ee) {
					return ee
				}
				return &exitError{Code: 126, Kind: "exec", Message: fmt.Sprintf("cannot run %s: %v", argv[0], err)}
			}
			return nil
		}
	},
}

func checkSessionSeconds(n int) error {
	if n != 0 && (n < 900 || n > 43200) {
		return usageErr("--duration-seconds must be from 900 to 43200 (STS limits), not %d", n)
	}
	return nil
}

// roleCreds are the credentials of an assumed role.
type roleCreds struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Expiration                                 time.Time
	RoleARN, SessionName, RequestID            string
}

// assume checks the request is active and takes its role.
func (a *app) assume(ctx context.Context, s *session, id string, seconds int) (*roleCreds, error) {
	r, err := s.api.getRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Status != "active" {
		return nil, a.notActive(r)
	}
	now := a.now()
	if r.ExpiresAt != nil && !r.ExpiresAt.After(now) {
		return nil, &exitError{Code: exitEnded, Kind: "not_active", Status: "expired",
			Message: fmt.Sprintf("request %s's access window ended %s", r.ID, a.relative(*r.ExpiresAt)),
			Hint:    fmt.Sprintf("ask again: jit request %s --duration %s --reason \"...\"", r.Resource, r.Duration)}
	}
	if r.Target.AssumableRole() == "" {
		return nil, &exitError{Code: exitUsage, Kind: "no_role",
			Message: fmt.Sprintf("request %s grants %s, not an IAM role jit can assume", r.ID, r.Target),
			Hint:    r.Target.UseText()}
	}
	if seconds == 0 {
		seconds = 3600
		if r.ExpiresAt != nil {
			seconds = int(math.Ceil(r.ExpiresAt.Sub(now).Seconds()))
			seconds = max(900, min(seconds, 3600))
		}
	}
	name := access.RoleSessionName(r.Requester)
	out, err := a.assumeRetrying(ctx, s, r, name, seconds)
	if err != nil {
		return nil, assumeError(err, r, name, seconds)
	}
	c := out.Credentials
	if c == nil {
		return nil, errors.New("sts:AssumeRole returned no credentials")
	}
	return &roleCreds{
		AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken),
		Expiration: aws.ToTime(c.Expiration).UTC(), RoleARN: r.Target.AssumableRole(), SessionName: name, RequestID: r.ID,
	}, nil
}

// notActive explains why a request gives no credentials now.
func (a *app) notActive(r *request) *exitError {
	e := &exitError{Code: exitCodeFor(string(r.Status)), Kind: "not_active", Status: string(r.Status)}
	switch r.Status {
	case "pending", "approved":
		e.Code = exitFailure
		e.Message = fmt.Sprintf("request %s is not active yet: %s", r.ID, a.statusLine(r))
		e.Hint = fmt.Sprintf("`jit wait %s` waits until it is active; then run this again", r.ID)
	default:
		e.Message = fmt.Sprintf("request %s is %s: it gives no access", r.ID, r.Status)
		e.Hint = fmt.Sprintf("ask again: jit request %s --duration %s --reason \"...\"", r.Resource, firstNonEmpty(r.Duration, "15m"))
	}
	return e
}

func assumeError(err error, r *request, name string, seconds int) error {
	msg := err.Error()
	var ae smithy.APIError
	if errors.As(err, &ae) {
		msg = ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	e := &exitError{Code: exitFailure, Kind: "assume_role", Message: fmt.Sprintf("sts:AssumeRole on %s as session %s failed: %s", r.Target.AssumableRole(), name, msg)}
	switch {
	case ae != nil && ae.ErrorCode() == "AccessDenied":
		e.Hint = fmt.Sprintf("the grant allows exactly the principal that made the request (%s) with session name %s until it expires;\ncheck that these are the same AWS credentials (`aws sts get-caller-identity`) and that the request is still active (`jit status %s`);\nright after a grant IAM may take a while to apply it (jit retried for %s after activation): try again in a minute", r.Requester, name, r.ID, propagationRetry)
	case ae != nil && ae.ErrorCode() == "ValidationError" && strings.Contains(strings.ToLower(msg), "duration"):
		e.Code = exitUsage
		e.Hint = fmt.Sprintf("--duration-seconds %d is more than the role allows; ask for less", seconds)
	default:
		e.Hint = "check the AWS credentials and region, and AWS_ENDPOINT_URL if you set one"
	}
	return e
}

func (a *app) printCreds(c *roleCreds, format string) error {
	exp := c.Expiration.Format(time.RFC3339)
	switch format {
	case "env":
		for _, kv := range [][2]string{
			{"AWS_ACCESS_KEY_ID", c.AccessKeyID}, {"AWS_SECRET_ACCESS_KEY", c.SecretAccessKey},
			{"AWS_SESSION_TOKEN", c.SessionToken}, {"AWS_CREDENTIAL_EXPIRATION", exp},
		} {
			fmt.Fprintf(a.stdout, "export %s=%s\n", kv[0], shellQuote(kv[1]))
		}
		return nil
	case "credential-process":
		return a.printJSON(struct {
			Version         int    `json:"Version"`
			AccessKeyID     string `json:"AccessKeyId"`
			SecretAccessKey string `json:"SecretAccessKey"`
			SessionToken    string `json:"SessionToken"`
			Expiration      string `json:"Expiration"`
		}{1, c.AccessKeyID, c.SecretAccessKey, c.SessionToken, exp})
	default:
		return a.printJSON(struct {
			AccessKeyID     string `json:"AccessKeyId"`
			SecretAccessKey string `json:"SecretAccessKey"`
			SessionToken    string `json:"SessionToken"`
			Expiration      string `json:"Expiration"`
			RoleARN         string `json:"RoleArn"`
			RoleSessionName string `json:"RoleSessionName"`
			RequestID       string `json:"RequestId"`
		}{c.AccessKeyID, c.SecretAccessKey, c.SessionToken, exp, c.RoleARN, c.SessionName, c.RequestID})
	}
}

// shellQuote quotes s for POSIX shells.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// childEnv is the environment of jit exec's command: the caller's, with
// the role's credentials instead of any others.
func childEnv(environ []string, c *roleCreds, region string) []string {
	drop := map[string]bool{
		"AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true,
		"AWS_SECURITY_TOKEN": true, "AWS_CREDENTIAL_EXPIRATION": true, "JIT_REQUEST_ID": true,
	}
	var env []string
	regions := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if drop[k] {
			continue
		}
		if k == "AWS_REGION" || k == "AWS_DEFAULT_REGION" {
			if v == "" {
				continue
			}
			regions[k] = v
		}
		env = append(env, kv)
	}
	env = append(env,
		"AWS_ACCESS_KEY_ID="+c.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+c.SecretAccessKey,
		"AWS_SESSION_TOKEN="+c.SessionToken,
		"AWS_CREDENTIAL_EXPIRATION="+c.Expiration.Format(time.RFC3339),
		"JIT_REQUEST_ID="+c.RequestID,
	)
	// Tools read one or the other (the AWS CLI v1 only AWS_DEFAULT_REGION):
	// set whichever is missing.
	region = firstNonEmpty(regions["AWS_REGION"], regions["AWS_DEFAULT_REGION"], region)
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if regions[k] == "" && region != "" {
			env = append(env, k+"="+region)
		}
	}
	return env
}
