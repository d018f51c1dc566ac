// Package cloud assembles the local cloud: moto as the AWS emulator, the
// edge on which the SDKs and moto's Step Functions interpreter reach AWS
// (Lambda invokes served by the local runner, everything else proxied to
// moto), the resources of template.yaml provisioned by API calls, the HTTP
// API gateway with SigV4 against local identities, and the inbox.
//
// cmd/localcloud runs it in the foreground for people; end-to-end tests
// and benchmarks start it in-process. It must not contain product logic:
// the functions it runs are the same bootstrap binaries that deploy.
package cloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/local/devsignin"
	"github.com/jitaccess/jit/shared/local/edge"
	"github.com/jitaccess/jit/shared/local/gateway"
	"github.com/jitaccess/jit/shared/local/inbox"
	"github.com/jitaccess/jit/shared/local/moto"
	"github.com/jitaccess/jit/shared/local/provision"
	"github.com/jitaccess/jit/shared/local/runner"
	"github.com/jitaccess/jit/shared/local/template"
	"github.com/jitaccess/jit/shared/policy"
	"github.com/jitaccess/jit/shared/store"
)

// The local cloud's fixed account and region.
const (
	Region    = "us-east-1"
	AccountID = "123456789012"
)

// Options configure Start. Paths are relative to Root.
type Options struct {
	// Root is the repository root (template.yaml lives there).
	Root string
	// EdgePort and APIPort: 0 picks free ports.
	EdgePort, APIPort int
	// MotoBin is the bin directory of the moto virtualenv.
	MotoBin string
	// BuildDir holds <function>/bootstrap for this machine (make functions).
	BuildDir string
	// Identities, Policy and Roles are the local dev identities, the policy
	// applied as version 1, and the sample target roles.
	Identities, Policy, Roles string
	// Sender is the verified SES sender; default the template's default.
	Sender string
	// Logger receives the local cloud's own logs; Output the functions' and
	// moto's output. Nil discards.
	Logger *slog.Logger
	Output io.Writer
	// Observe, if set, is called after every call that reaches the edge
	// (see Call), from the goroutine that served it, so it must be safe
	// for concurrent use and quick. Benchmarks use it to count AWS calls;
	// nil leaves the edge exactly as it is.
	Observe func(Call)
	// InboxPoll is how often the inbox reads the emulator's record of sent
	// email in the background: 0 means every 250ms, negative never (the
	// inbox then reads it only when its page is served or Poll is called).
	// moto serializes its whole state for that read, so its cost grows with
	// everything the emulator holds; benchmarks turn it off.
	InboxPoll time.Duration
	// NoIAMEnforcement leaves AssumeRole and role sessions unchecked, as
	// moto alone does (also JIT_LOCAL_IAM=off); IAMPropagation is how long
	// policy changes take to be in effect (also JIT_LOCAL_IAM_PROPAGATION,
	// e.g. 10s). See iam.go.
	NoIAMEnforcement bool
	IAMPropagation   time.Duration
	// LaxDynamoDB turns off the edge's DynamoDB request checks
	// (edge.LaxDynamoDB): only to find out whether a failure is theirs.
	LaxDynamoDB bool
}

func (o *Options) defaults() {
	if o.Root == "" {
		o.Root = "."
	}
	if o.MotoBin == "" {
		o.MotoBin = filepath.Join(o.Root, ".venv/moto/bin")
	}
	if o.BuildDir == "" {
		o.BuildDir = filepath.Join(o.Root, "build/local")
	}
	if o.Identities == "" {
		o.Identities = filepath.Join(o.Root, "infra/local/identities.json")
	}
	if o.Policy == "" {
		o.Policy = filepath.Join(o.Root, "infra/local/policies.yaml")
	}
	if o.Roles == "" {
		o.Roles = filepath.Join(o.Root, "infra/local/roles.json")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Output == nil {
		o.Output = io.Discard
	}
}

// Cloud is a running local cloud.
type Cloud struct {
	EdgeURL, APIURL, MotoURL string
	Identities               []gateway.Identity
	Inbox                    *inbox.Inbox
	Runner                   *runner.Runner
	Moto                     *moto.Server
	// Table and StateMachineArn are the provisioned resources.
	Table, StateMachineArn string
	// Faults makes chosen AWS calls through the edge fail, or chosen
	// functions crash mid-invocation (failure tests; also POST/DELETE
	// /_local/faults on the edge).
	Faults *Faults
	// IAM is the edge's IAM enforcement; nil when it is off.
	IAM *edge.IAM

	servers []*http.Server
	cancel  context.CancelFunc
	log     *slog.Logger
}

// Start brings everything up and returns when the system is ready to take
// requests. On error, whatever started is stopped.
func Start(ctx context.Context, opts Options) (c *Cloud, err error) {
	opts.defaults()
	log := opts.Logger
	c = &Cloud{log: log, Faults: &Faults{}}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	tmpl, err := template.Load(filepath.Join(opts.Root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	edgeLn, err := listen(opts.EdgePort)
	if err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	apiLn, err := listen(opts.APIPort)
	if err != nil {
		edgeLn.Close()
		return nil, fmt.Errorf("http api: %w", err)
	}
	c.EdgeURL = "http://" + edgeLn.Addr().String()
	c.APIURL = "http://" + apiLn.Addr().String()

	c.Moto, err = moto.Start(ctx, moto.Options{
		Python: opts.MotoBin, LambdaPort: edgeLn.Addr().(*net.TCPAddr).Port,
		LogFile: prefixed(opts.Output, "[moto] "), Logger: log,
	})
	if err != nil {
		edgeLn.Close()
		apiLn.Close()
		return nil, err
	}
	c.MotoURL = c.Moto.URL()

	params := map[string]string{}
	if opts.Sender != "" {
		params["SenderEmail"] = opts.Sender
	}
	c.Identities, err = gateway.LoadIdentities(opts.Identities)
	if err != nil {
		return nil, err
	}
	// The local identities of kind admin and auditor are the deployment's
	// admins and auditors.
	params["AdminPrincipals"], params["AuditorPrincipals"] = principalsOf(c.Identities, "admin"), principalsOf(c.Identities, "auditor")
	res, err := tmpl.Resolver(Region, AccountID, params)
	if err != nil {
		return nil, err
	}
	fns, err := functions(tmpl, res, opts.BuildDir, c.EdgeURL)
	if err != nil {
		return nil, err
	}
	c.Runner = runner.New(fns, runner.Options{Logger: log, Region: Region, AccountID: AccountID, LogOutput: opts.Output})
	invoke := func(ctx context.Context, name string, payload []byte) ([]byte, string, error) {
		var crash []runner.InvokeOption
		if c.Faults.crashes(name) {
			log.Warn("fault: this invocation crashes", "function", name)
			crash = append(crash, runner.Crash())
		}
		inv, err := c.Runner.Invoke(ctx, name, payload, crash...)
		if err != nil {
			return nil, "", err
		}
		return inv.Payload, inv.FunctionError, nil
	}
	motoURL, _ := url.Parse(c.MotoURL)
	var edgeOpts []edge.Option
	if opts.LaxDynamoDB {
		edgeOpts = append(edgeOpts, edge.LaxDynamoDB())
	}
	var edgeHandler http.Handler = edge.New(invoke, motoURL, log, edgeOpts...)
	if edgeHandler, err = c.enforceIAM(edgeHandler, motoURL, opts); err != nil {
		return nil, err
	}
	edgeHandler = c.requireEmulator(edgeHandler, func(r *http.Request) bool {
		_, ok := invokeFunction(r.URL.Path)
		return ok && r.Method == http.MethodPost
	})
	edgeHandler = c.Faults.wrap(edgeHandler)
	if opts.Observe != nil {
		edgeHandler = observe(edgeHandler, opts.Observe)
	}
	edgeMux := http.NewServeMux()
	edgeMux.HandleFunc("/_local/health", c.serveHealth)
	edgeMux.Handle("/", edgeHandler)
	c.serve(edgeLn, edgeMux)

	bg, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go c.watchEmulator(bg)
	awsCfg := provision.EmulatorConfig(c.EdgeURL, Region)
	p := &provision.Provisioner{AWS: awsCfg, Template: tmpl, Root: opts.Root, Resolver: res, Logger: log}
	if err := p.Apply(ctx); err != nil {
		return nil, err
	}
	sender := res.Params["SenderEmail"]
	if err := p.VerifySender(ctx, sender); err != nil {
		return nil, err
	}
	if err := ensureRoles(ctx, p, opts.Roles); err != nil {
		return nil, err
	}
	for id, ph := range res.Physical {
		switch ph.Type {
		case template.TypeTable:
			c.Table = ph.Name
		case template.TypeStateMachine:
			c.StateMachineArn = ph.Arn
			_ = id
		}
	}
	if err := applyPolicy(ctx, store.New(dynamodb.NewFromConfig(awsCfg), c.Table), opts.Policy); err != nil {
		return nil, err
	}
	if err := c.Runner.Start(ctx); err != nil {
		return nil, err
	}

	var routes []gateway.Route
	for _, f := range tmpl.Functions {
		for _, r := range f.Routes {
			routes = append(routes, gateway.Route{Method: r.Method, Path: r.Path, Function: f.LogicalID, IAMAuth: r.IAMAuth})
		}
	}
	gw, err := gateway.New(gateway.Config{
		Routes: routes, Identities: c.Identities, Invoke: invoke,
		Region: Region, AccountID: AccountID, APIID: "local", Stage: "$default", Logger: log,
	})
	if err != nil {
		return nil, err
	}
	c.Inbox = inbox.New(c.MotoURL, log)
	switch {
	case opts.InboxPoll == 0:
		go c.Inbox.Run(bg, 250*time.Millisecond)
	case opts.InboxPoll > 0:
		go c.Inbox.Run(bg, opts.InboxPoll)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/_local/health", c.serveHealth)
	// Browsers cannot sign with SigV4: the dev sign-in signs the auditor
	// page's sign-in call as a local auditor or admin.
	mux.Handle(devsignin.Path, devsignin.New(c.Identities, c.APIURL))
	mux.Handle("/_local/", c.Inbox)
	mux.Handle("/", c.requireEmulator(gw, nil))
	c.serve(apiLn, mux)
	return c, nil
}

// functions describes every template function to the runner, with the
// template's environment resolved for the local cloud and the SDK pointed
// at the edge.
func functions(tmpl *template.Template, res template.Resolver, buildDir, edgeURL string) ([]runner.Function, error) {
	var out []runner.Function
	for _, f := range tmpl.Functions {
		env := map[string]string{
			"AWS_ENDPOINT_URL":      edgeURL,
			"AWS_ACCESS_KEY_ID":     "test",
			"AWS_SECRET_ACCESS_KEY": "test",
		}
		for k, v := range f.Environment {
			s, err := res.String(v)
			if err != nil {
				return nil, fmt.Errorf("function %s: environment %s: %w", f.LogicalID, k, err)
			}
			env[k] = s
		}
		bin := filepath.Join(buildDir, Dir(f.LogicalID), "bootstrap")
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("function %s: %s is missing; run `make functions` first", f.LogicalID, bin)
		}
		out = append(out, runner.Function{Name: f.LogicalID, Binary: bin, Env: env, Timeout: f.Timeout, MemoryMB: f.MemoryMB, Concurrency: 4})
	}
	return out, nil
}

func principalsOf(ids []gateway.Identity, kind string) string {
	var out []string
	for _, id := range ids {
		if id.Kind == kind {
			out = append(out, id.PrincipalARN)
		}
	}
	return strings.Join(out, ",")
}

// Dir is the functions/ folder of a template function: ApiFunction → api.
func Dir(logicalID string) string {
	return strings.ToLower(strings.TrimSuffix(logicalID, "Function"))
}

type sampleRole struct {
	Name              string            `json:"name"`
	Tags              map[string]string `json:"tags"`
	MaxSessionSeconds int32             `json:"max_session_seconds"`
}

func ensureRoles(ctx context.Context, p *provision.Provisioner, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("sample roles: %w", err)
	}
	var roles []sampleRole
	if err := json.Unmarshal(b, &roles); err != nil {
		return fmt.Errorf("sample roles %s: %w", path, err)
	}
	for _, r := range roles {
		if _, err := p.EnsureRole(ctx, r.Name, r.Tags, r.MaxSessionSeconds); err != nil {
			return err
		}
	}
	return nil
}

// applyPolicy makes the file the current policy unless one is in force.
func applyPolicy(ctx context.Context, s *store.Store, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	if _, err := policy.Parse(b); err != nil {
		return fmt.Errorf("policy %s: %w", path, err)
	}
	cur, err := s.CurrentPolicy(ctx)
	switch {
	case errors.Is(err, access.ErrNotFound):
		_, err = s.ApplyPolicy(ctx, 0, b, "local-setup", time.Now(), map[string]string{"source": path})
		return err
	case err != nil:
		return err
	case string(cur.Document) != string(b):
		_, err = s.ApplyPolicy(ctx, cur.Version, b, "local-setup", time.Now(), map[string]string{"source": path})
		return err
	}
	return nil
}

func listen(port int) (net.Listener, error) {
	return net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
}

func (c *Cloud) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	c.servers = append(c.servers, srv)
	go srv.Serve(ln)
}

// Close stops everything Start started.
func (c *Cloud) Close() error {
	if c.cancel != nil {
		c.cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var errs []error
	for _, s := range c.servers {
		if err := s.Shutdown(ctx); err != nil {
			s.Close()
		}
	}
	if c.Runner != nil {
		errs = append(errs, c.Runner.Close())
	}
	if c.Moto != nil {
		errs = append(errs, c.Moto.Stop())
	}
	return errors.Join(errs...)
}

// prefixed writes each line of output with a prefix, leaving out the
// emulator's access-log lines for the inbox's own polling.
func prefixed(w io.Writer, prefix string) io.Writer {
	if w == io.Discard {
		return w
	}
	return &prefixWriter{w: w, prefix: prefix}
}

type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		line := p.buf[:i+1]
		if !bytes.Contains(line, []byte("/moto-api/data.json")) {
			if _, err := p.w.Write(append([]byte(p.prefix), line...)); err != nil {
				return 0, err
			}
		}
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}
