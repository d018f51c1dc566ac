// Command jit is the command-line client of the jit access service: it asks
// for temporary access to an AWS role with a reason, waits for a person to
// approve it, and hands out the role's credentials once the grant is active.
//
//	jit request sandbox-admin --duration 30m --reason "fix the deploy" --wait
//	jit exec <request-id> -- aws s3 ls
//
// It signs every API call with SigV4 using the standard AWS credential
// chain (environment, --profile, SSO, web identity), finds the API from
// --api-url, JIT_API_URL or the CloudFormation stack's ApiUrl output, and
// takes role credentials with sts:AssumeRole under the session name the
// grant is bound to.
//
// Layout: main.go parses arguments and dispatches; client.go is the signed
// HTTP client and its errors; config.go finds credentials, region and the
// API URL; errors.go maps failures to exit codes and next steps; output.go
// prints tables and JSON; one file per command group: request.go, wait.go
// (wait and the polling every waiting command shares), status.go (status,
// list), creds.go (creds, exec; exec_*.go replace the process), manage.go
// (cancel, revoke, extend), policy.go, audit.go (audit search, export and
// open, and the period flags stats shares), stats.go; term_*.go measure the
// terminal. docs/cli.md is the user documentation.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Exit codes. They are part of the interface: scripts and CI branch on
// them, and docs/cli.md and `jit --help` list them.
const (
	exitOK          = 0
	exitFailure     = 1 // auth, network, API 5xx, not found, anything else
	exitUsage       = 2 // bad flags or arguments, or a feature the API does not offer yet
	exitDenied      = 3
	exitTimedOut    = 4 // nobody decided in time
	exitCancelled   = 5
	exitEnded       = 6 // failed, revoked or expired
	exitDeadline    = 7 // --wait gave up at --timeout
	exitInterrupted = 130
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := newApp().run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// app is one invocation: its streams, environment and clock, so tests can
// run commands in-process.
type app struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	getenv         func(string) string
	environ        func() []string
	now            func() time.Time
	loc            *time.Location
	// stderrTTY turns on the one-line live progress of --wait; width is
	// the terminal's (0 if unknown).
	stderrTTY bool
	width     int
	// loadAWS loads the AWS SDK configuration; tests replace it.
	loadAWS func(ctx context.Context, g *globals) (aws.Config, error)
	http    *http.Client
	// pollMin and pollMax bound the --wait polling interval; retry is the
	// backoff of transient API failures.
	pollMin, pollMax time.Duration
	retry            []time.Duration
	// execve replaces the process with a command (exec_unix.go).
	execve func(argv0 string, argv, env []string) error
	// openURL opens a link in the user's browser (jit audit open).
	openURL func(ctx context.Context, url string) error

	g   globals
	cmd string // the command running, for messages
}

func newApp() *app {
	return &app{
		stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin,
		getenv: os.Getenv, environ: os.Environ, now: time.Now, loc: time.Local,
		// CI logs keep every byte: timestamped lines there, even on a pty.
		stderrTTY: isTerminal(os.Stderr) && os.Getenv("CI") == "" && os.Getenv("TERM") != "dumb",
		width:     terminalWidth(os.Stderr),
		loadAWS:   loadAWSConfig,
		http:      &http.Client{Timeout: 30 * time.Second},
		pollMin:   250 * time.Millisecond, pollMax: 2 * time.Second,
		retry:   []time.Duration{300 * time.Millisecond, time.Second, 2 * time.Second},
		execve:  execReplace,
		openURL: openBrowser(os.Getenv, os.Stdin, os.Stderr),
	}
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// globals are the flags every command takes, before or after its name.
type globals struct {
	apiURL, profile, region, stack, output string
	verbose                                bool
}

var globalFlagNames = map[string]bool{"api-url": true, "profile": true, "region": true, "stack": true, "output": true, "o": true, "verbose": true, "v": true}

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.apiURL, "api-url", g.apiURL, "")
	fs.StringVar(&g.profile, "profile", g.profile, "")
	fs.StringVar(&g.region, "region", g.region, "")
	fs.StringVar(&g.stack, "stack", g.stack, "")
	fs.StringVar(&g.output, "output", g.output, "")
	fs.StringVar(&g.output, "o", g.output, "")
	fs.BoolVar(&g.verbose, "verbose", g.verbose, "")
	fs.BoolVar(&g.verbose, "v", g.verbose, "")
}

func (a *app) json() bool { return a.g.output == "json" }

// command is one subcommand. setup registers its flags and returns the
// function that runs it with the positional arguments (and, for exec, what
// follows "--").
type command struct {
	name, args, summary string
	// about is the description shown by --help; examples follow it.
	about, examples string
	setup           func(a *app, fs *flag.FlagSet) func(ctx context.Context, pos, rest []string) error
}

func commands() []*command {
	return []*command{
		requestCommand, waitCommand, statusCommand, listCommand, credsCommand, execCommand,
		cancelCommand, revokeCommand, extendCommand, policyCommand, auditCommand, statsCommand,
		versionCommand,
	}
}

func findCommand(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// run executes one command line and returns the process exit code.
func (a *app) run(ctx context.Context, args []string) int {
	a.g = globals{stack: "jit", output: "text"}
	top := flag.NewFlagSet("jit", flag.ContinueOnError)
	top.SetOutput(io.Discard)
	a.g.register(top)
	help := top.Bool("help", false, "")
	top.BoolVar(help, "h", false, "")
	version := top.Bool("version", false, "")
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			a.printTopHelp(a.stdout)
			return exitOK
		}
		return a.report(usageErr("%s", err.Error()))
	}
	if err := a.checkGlobals(); err != nil {
		return a.report(err)
	}
	rest := top.Args()
	switch {
	case *version:
		rest = []string{"version"}
	case *help || len(rest) == 0:
		if len(rest) == 0 && !*help {
			a.printTopHelp(a.stderr)
			return exitUsage
		}
		a.printTopHelp(a.stdout)
		return exitOK
	}
	name := rest[0]
	if name == "help" {
		if len(rest) < 2 {
			a.printTopHelp(a.stdout)
			return exitOK
		}
		c := findCommand(rest[1])
		if c == nil {
			return a.report(usageErr("no command %q; `jit help` lists them", rest[1]))
		}
		a.printHelp(a.stdout, c)
		return exitOK
	}
	c := findCommand(name)
	if c == nil {
		return a.report(usageErr("no command %q; `jit --help` lists them%s", name, suggest(name)))
	}
	a.cmd = c.name
	fs := flag.NewFlagSet("jit "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a.g.register(fs)
	runCmd := c.setup(a, fs)
	pos, after, err := parseArgs(fs, rest[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			a.printHelp(a.stdout, c)
			return exitOK
		}
		return a.report(usageErr("%s", err.Error()))
	}
	if err := a.checkGlobals(); err != nil {
		return a.report(err)
	}
	return a.report(runCmd(ctx, pos, after))
}

func (a *app) checkGlobals() error {
	switch a.g.output {
	case "table":
		// What the audit and stats help calls the text form.
		a.g.output = "text"
	case "text", "json":
	default:
		return usageErr("--output must be text or json, not %q", a.g.output)
	}
	return nil
}

// suggest names a command close to a mistyped one.
func suggest(name string) string {
	aliases := map[string]string{"get": "status", "show": "status", "ls": "list", "run": "exec", "credentials": "creds", "approve": "request"}
	if s, ok := aliases[name]; ok {
		return fmt.Sprintf(" (did you mean `jit %s`?)", s)
	}
	for _, c := range commands() {
		if strings.HasPrefix(c.name, name) || strings.HasPrefix(name, c.name) {
			return fmt.Sprintf(" (did you mean `jit %s`?)", c.name)
		}
	}
	return ""
}

// parseArgs parses flags wherever they appear among the arguments, as people
// type them (`jit request sandbox-admin --duration 1h`). Everything after a
// "--" is returned in after, untouched.
func parseArgs(fs *flag.FlagSet, args []string) (pos, after []string, err error) {
	for {
		if err := fs.Parse(args); err != nil {
			return nil, nil, err
		}
		left := fs.Args()
		used := len(args) - len(left)
		if used > 0 && args[used-1] == "--" && !takesValue(fs, args, used-2) {
			return pos, left, nil
		}
		if len(left) == 0 {
			return pos, nil, nil
		}
		pos = append(pos, left[0])
		args = left[1:]
	}
}

// takesValue reports whether args[i] is a flag that consumed the next
// argument as its value (so a "--" after it was a value, not the end of
// flags).
func takesValue(fs *flag.FlagSet, args []string, i int) bool {
	if i < 0 {
		return false
	}
	s := args[i]
	if len(s) < 2 || s[0] != '-' || s == "--" || strings.Contains(s, "=") {
		return false
	}
	f := fs.Lookup(strings.TrimLeft(s, "-"))
	if f == nil {
		return false
	}
	if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
		return false
	}
	return true
}

const topHelp = `jit asks for temporary AWS access with a reason, waits for a person to
approve it, and gives you the role's credentials while the grant is active.

Usage:
  jit <command> [arguments] [flags]
  jit help <command>      (or jit <command> --help)

Commands:
%s
Global flags (before or after the command):
  --api-url URL        API base URL (default $JIT_API_URL, else the ApiUrl output
                       of the CloudFormation stack --stack)
  --stack NAME         CloudFormation stack to read ApiUrl from (default $JIT_STACK, else "jit")
  --profile NAME       AWS profile (default: the standard chain: env, AWS_PROFILE, SSO,
                       web identity, instance role)
  --region REGION      AWS region (default from the AWS config; an execute-api URL's
                       own region is used for signing)
  -o, --output FORMAT  text (default) or json: exactly one JSON document on stdout
  -v, --verbose        log the API URL, region, idempotency key and each call to stderr

Exit codes:
  0    success; with --wait: the request is active (approved and granted);
       for revoke: its access has ended
  1    other errors: credentials, network, API 5xx, not found, not allowed,
       a request in the wrong status for the command
  2    usage error: bad flags or arguments (including ones the API rejects as
       invalid, 400/422), or a feature the API does not offer yet
  3    denied
  4    timed out: nobody decided in time
  5    cancelled
  6    failed, revoked or expired before it could be used
  7    --wait (or revoke) reached --timeout; the request is still open
  130  interrupted while waiting (the request is unchanged)
  jit exec exits with the command's own exit code (126/127 if it cannot start).

Environment:
  JIT_API_URL, JIT_STACK, JIT_IDEMPOTENCY_KEY, AWS_PROFILE, AWS_REGION,
  AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_ENDPOINT_URL
  (and the rest of the standard AWS SDK variables).

Examples:
  jit request sandbox-admin --duration 30m --reason "fix the broken deploy" --wait
  jit exec 01jb2k3m4n5p6q7r8s9t0vwxyz -- aws sts get-caller-identity
  eval "$(jit creds 01jb2k3m4n5p6q7r8s9t0vwxyz)"
  jit list --status active
  JIT_API_URL=http://127.0.0.1:3000 jit status 01jb2k3m4n5p6q7r8s9t0vwxyz -o json

Full guide: docs/cli.md
`

func (a *app) printTopHelp(w io.Writer) {
	var b strings.Builder
	for _, c := range commands() {
		name := c.name
		if w := strings.SplitN(c.args, " ", 2)[0]; w != "" && !strings.ContainsAny(w, "<[|-") {
			name += " " + w
		}
		fmt.Fprintf(&b, "  %-16s %s\n", name, c.summary)
	}
	fmt.Fprintf(w, topHelp, b.String())
}

// printHelp writes a command's usage, flags (without the global ones) and
// examples.
func (a *app) printHelp(w io.Writer, c *command) {
	fs := flag.NewFlagSet("jit "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var g globals
	g.register(fs)
	c.setup(&app{g: globals{stack: "jit", output: "text"}}, fs)
	fmt.Fprintf(w, "Usage: jit %s %s\n\n%s\n", c.name, c.args, strings.TrimSpace(c.about))
	var lines [][2]string
	aliases := map[string][]string{}
	fs.VisitAll(func(f *flag.Flag) {
		if globalFlagNames[f.Name] || f.Usage == "" {
			return
		}
		if strings.HasPrefix(f.Usage, "alias:") {
			target := strings.TrimPrefix(f.Usage, "alias:")
			aliases[target] = append(aliases[target], f.Name)
			return
		}
	})
	fs.VisitAll(func(f *flag.Flag) {
		if globalFlagNames[f.Name] || f.Usage == "" || strings.HasPrefix(f.Usage, "alias:") {
			return
		}
		placeholder, usage := flag.UnquoteUsage(f)
		var names []string
		for _, al := range aliases[f.Name] {
			names = append(names, "-"+al)
		}
		names = append(names, "--"+f.Name)
		left := strings.Join(names, ", ")
		if placeholder != "" {
			left += " " + placeholder
		}
		if def := f.DefValue; def != "" && def != "false" && def != "0" && def != "0s" {
			if d, err := time.ParseDuration(def); err == nil {
				def = roundDuration(d)
			}
			usage += fmt.Sprintf(" (default %s)", def)
		}
		lines = append(lines, [2]string{left, usage})
	})
	sort.SliceStable(lines, func(i, j int) bool { return lines[i][0] < lines[j][0] })
	if len(lines) > 0 {
		fmt.Fprintf(w, "\nFlags:\n")
		for _, l := range lines {
			text := wrap(l[1], 80-27)
			if len(l[0]) > 24 {
				fmt.Fprintf(w, "  %s\n  %-24s %s\n", l[0], "", text)
			} else {
				fmt.Fprintf(w, "  %-24s %s\n", l[0], text)
			}
		}
	}
	fmt.Fprintf(w, "\nGlobal flags: --api-url, --stack, --profile, --region, -o/--output text|json, -v/--verbose (see jit --help)\n")
	if c.examples != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(c.examples, "\n"))
	}
}

// wrap breaks s into lines of at most width, indented to the flag column.
func wrap(s string, width int) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(s) {
		if i > 0 && n+1+len(w) > width {
			b.WriteString("\n" + strings.Repeat(" ", 27))
			n = 0
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

var versionCommand = &command{
	name: "version", summary: "print the version of jit",
	about: "Print the version jit was built from.",
	setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string, []string) error {
		return func(ctx context.Context, pos, _ []string) error {
			if len(pos) > 0 {
				return usageErr("takes no arguments")
			}
			v := buildVersion()
			if a.json() {
				return a.printJSON(map[string]string{"version": v})
			}
			fmt.Fprintf(a.stdout, "jit %s\n", v)
			return nil
		}
	},
}

func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " " + s.Value[:12]
			}
		}
	}
	return v
}
