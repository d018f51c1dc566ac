// Package lambdaenv is what every function's main needs before it can
// serve: its configuration from the environment, an AWS SDK config, and a
// JSON logger that tags lines with the Lambda request id.
//
// It must hold no business logic; mains stay thin by calling it.
package lambdaenv

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Env reads required and optional variables, remembering every missing
// required one so a function reports them all at once.
type Env struct {
	lookup  func(string) (string, bool)
	missing []string
}

// New reads from the process environment.
func New() *Env { return &Env{lookup: os.LookupEnv} }

// FromMap reads from m (for tests).
func FromMap(m map[string]string) *Env {
	return &Env{lookup: func(k string) (string, bool) { v, ok := m[k]; return v, ok }}
}

// Require returns the variable's value, noting it if it is unset or empty.
func (e *Env) Require(name string) string {
	v, ok := e.lookup(name)
	if !ok || strings.TrimSpace(v) == "" {
		e.missing = append(e.missing, name)
	}
	return v
}

// Optional returns the variable's value or def.
func (e *Env) Optional(name, def string) string {
	if v, ok := e.lookup(name); ok && v != "" {
		return v
	}
	return def
}

// Int reads a whole-number variable, or def when unset; a malformed value
// is noted like a missing one.
func (e *Env) Int(name string, def int) int {
	v, ok := e.lookup(name)
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		e.missing = append(e.missing, name+" (not a whole number)")
		return def
	}
	return n
}

// List reads a comma-separated variable (empty items dropped).
func (e *Env) List(name string) []string {
	v, _ := e.lookup(name)
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Err names every missing required variable, or is nil.
func (e *Env) Err() error {
	if len(e.missing) == 0 {
		return nil
	}
	return fmt.Errorf("missing required environment variable(s): %s", strings.Join(e.missing, ", "))
}

// AWS loads the SDK configuration (region, credentials, and
// AWS_ENDPOINT_URL for local emulators) once per process.
func AWS(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	return cfg, nil
}

// Logger returns a JSON logger at the level named by LOG_LEVEL (INFO by
// default) that adds the Lambda request id to every line logged with a
// context.
func Logger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	h := slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: l})
	return slog.New(requestIDHandler{h})
}

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.AddAttrs(slog.String("request_id", lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// Fatal logs err and exits; for use in main before the handler starts.
func Fatal(log *slog.Logger, msg string, err error) {
	log.Error(msg, "error", err.Error())
	os.Exit(1)
}
