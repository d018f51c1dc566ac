package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jitaccess/jit/shared/local/iampolicy"
)

// IAMOptions configure IAM enforcement (see NewIAM).
type IAMOptions struct {
	// Backend is the emulator (moto) that holds roles and their policies.
	Backend *url.URL
	// AccountID is the local cloud's account.
	AccountID string
	// Identities maps the local dev identities' access key IDs to their
	// principal ARNs.
	Identities map[string]string
	// Propagation is how long a trust or role-policy change takes to be
	// in effect (IAM's eventual consistency); 0 means at once.
	Propagation time.Duration
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// IAM wraps the edge so that the AWS calls of the local identities and of
// the role sessions they obtain are held to the IAM rules the product
// relies on: sts:AssumeRole only where the role's trust policy allows the
// caller, calls of a session refused where an inline policy of its role
// denies them, expired sessions refused, and policy changes in effect only
// after the propagation delay. See doc.go for what is and is not
// evaluated.
type IAM struct {
	next      http.Handler
	read      *policyReader
	accountID string
	ids       map[string]string
	now       func() time.Time
	log       *slog.Logger

	mu          sync.Mutex
	propagation time.Duration
	sessions    map[string]*roleSession // by access key ID
}

// ControlPath is where the local cloud's IAM settings are read (GET) and
// changed (POST {"propagation_seconds": N}).
const ControlPath = "/_local/iam"

// maxInspectedBody bounds the query-protocol bodies read to find the
// action; IAM and STS requests are far smaller.
const maxInspectedBody = 1 << 20

// NewIAM returns next with IAM enforcement in front of it.
func NewIAM(next http.Handler, opts IAMOptions) *IAM {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &IAM{
		next: next, read: newPolicyReader(opts.Backend, opts.Now), accountID: opts.AccountID,
		ids: opts.Identities, now: opts.Now, log: opts.Logger.With("component", "edge-iam"),
		propagation: opts.Propagation, sessions: map[string]*roleSession{},
	}
}

// SetPropagation sets how long policy changes take to be in effect.
func (e *IAM) SetPropagation(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.propagation = max(d, 0)
}

// Propagation is the current propagation delay.
func (e *IAM) Propagation() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.propagation
}

// roleSession is a session the edge saw AssumeRole issue.
type roleSession struct {
	ARN, RoleARN, RoleID, Name, SourceIdentity string
	Issued, Expires                            time.Time
}

// caller is who signed a request.
type caller struct {
	principal iampolicy.Principal
	session   *roleSession // nil for long-term credentials
	local     bool         // a local dev identity
}

// call is what the edge knows of one request.
type call struct {
	service, operation string
	form               url.Values // query-protocol parameters, else nil
	protocol           protocol
}

type protocol int

const (
	protocolQuery protocol = iota // XML errors (STS, IAM, SNS, SES v1)
	protocolJSON                  // X-Amz-Target (DynamoDB, Step Functions)
	protocolREST                  // everything else (Lambda, SES v2)
)

func (e *IAM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == ControlPath {
		e.control(w, r)
		return
	}
	key := accessKeyID(r)
	if key == "" {
		e.next.ServeHTTP(w, r)
		return
	}
	c, err := e.inspect(r)
	if err != nil {
		writeError(w, r, protocolQuery, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	who, known := e.caller(key)
	now := e.now()
	if who.session != nil && !now.Before(who.session.Expires) {
		e.log.Info("refused: expired session", "principal", who.principal.ARN, "action", c.action())
		writeError(w, r, c.protocol, http.StatusBadRequest, expiredCode(c.protocol), "The security token included in the request is expired")
		return
	}
	switch {
	case c.service == "sts" && c.operation == "AssumeRole":
		e.assumeRole(w, r, c, who, known)
		return
	case who.session != nil && !(c.service == "sts" && c.operation == "GetCallerIdentity"):
		// GetCallerIdentity needs no permission and an explicit deny does
		// not stop it (AWS STS API reference).
		if !e.sessionMayCall(w, r, c, who) {
			return
		}
	}
	if c.service == "iam" && writes[c.operation] {
		e.recordWrite(w, r, c)
		return
	}
	e.next.ServeHTTP(w, r)
}

// inspect reads the service and operation of r, and the parameters of a
// query-protocol request (leaving the body for the next handler).
func (e *IAM) inspect(r *http.Request) (call, error) {
	c := call{service: signingService(r), protocol: protocolREST}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		c.protocol = protocolJSON
		c.operation = t[strings.LastIndexByte(t, '.')+1:]
		return c, nil
	}
	form := url.Values{}
	for k, v := range r.URL.Query() {
		form[k] = v
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") && r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxInspectedBody+1))
		if err != nil {
			return c, fmt.Errorf("reading the request: %w", err)
		}
		if len(b) > maxInspectedBody {
			return c, fmt.Errorf("request body over %d bytes", maxInspectedBody)
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		if v, err := url.ParseQuery(string(b)); err == nil {
			for k, vs := range v {
				form[k] = vs
			}
		}
	}
	if a := form.Get("Action"); a != "" {
		c.protocol, c.operation, c.form = protocolQuery, a, form
		return c, nil
	}
	if name, ok := invokeTarget(r.URL); ok && r.Method == http.MethodPost {
		c.operation = "InvokeFunction"
		c.form = url.Values{"FunctionName": {name}}
		return c, nil
	}
	c.operation = r.Method + " " + r.URL.Path
	return c, nil
}

// action is the IAM action of the call, e.g. dynamodb:GetItem. Calls the
// edge cannot name (REST APIs other than Lambda Invoke) get a name that
// only wildcard actions ("*", "ses:*") match.
func (c call) action() string {
	prefix := c.service
	switch prefix {
	case "monitoring":
		prefix = "cloudwatch"
	case "email":
		prefix = "ses"
	}
	return prefix + ":" + c.operation
}

// caller resolves an access key ID: a session AssumeRole issued through
// the edge, a local dev identity, or else one of the local cloud's own
// principals (the functions, provisioning, tests' admin clients), which
// known is false for.
func (e *IAM) caller(key string) (caller, bool) {
	e.mu.Lock()
	s := e.sessions[key]
	e.mu.Unlock()
	if s != nil {
		return caller{principal: iampolicy.Principal{ARN: s.ARN, Account: e.accountID, RoleARN: s.RoleARN}, session: s}, true
	}
	if arn, ok := e.ids[key]; ok {
		return caller{principal: principalOf(arn, e.accountID), local: true}, true
	}
	// moto answers GetCallerIdentity for such keys with this ARN.
	return caller{principal: iampolicy.Principal{ARN: "arn:aws:sts::" + e.accountID + ":user/moto", Account: e.accountID}}, false
}

// principalOf describes a principal ARN: for a role session
// (arn:aws:sts::A:assumed-role/R/S) its role is arn:aws:iam::A:role/R.
func principalOf(arn, account string) iampolicy.Principal {
	p := iampolicy.Principal{ARN: arn, Account: account}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 {
		p.Account = parts[4]
		if rest, ok := strings.CutPrefix(parts[5], "assumed-role/"); ok {
			role, _, _ := strings.Cut(rest, "/")
			p.RoleARN = "arn:" + parts[1] + ":iam::" + parts[4] + ":role/" + role
		}
	}
	return p
}

// baseContext holds the global condition keys of a caller's request.
func (e *IAM) baseContext(who caller, now time.Time) iampolicy.Context {
	ctx := iampolicy.Context{}
	ctx.Set("aws:CurrentTime", now.UTC().Format(time.RFC3339Nano))
	ctx.Set("aws:EpochTime", strconv.FormatInt(now.Unix(), 10))
	ctx.Set("aws:PrincipalAccount", who.principal.Account)
	ctx.Set("aws:PrincipalArn", firstNonEmpty(who.principal.RoleARN, who.principal.ARN))
	ctx.Set("aws:PrincipalType", "AssumedRole")
	if s := who.session; s != nil {
		ctx.Set("aws:userid", s.RoleID+":"+s.Name)
		ctx.Set("aws:TokenIssueTime", s.Issued.UTC().Format(time.RFC3339Nano))
		if s.SourceIdentity != "" {
			ctx.Set("aws:SourceIdentity", s.SourceIdentity)
		}
	} else if !strings.Contains(who.principal.ARN, ":assumed-role/") {
		ctx.Set("aws:PrincipalType", "User")
	}
	return ctx
}

// effectiveAt is the moment whose policies are in effect now.
func (e *IAM) effectiveAt(now time.Time) time.Time {
	return now.Add(-e.Propagation())
}

// assumeRole decides an sts:AssumeRole call as AWS does: an explicit Deny
// in the trust policy or the caller's identity policies refuses; a trust
// statement naming the caller (its session or user ARN, or "*") allows;
// one naming it only through its account or role allows when the
// caller's identity policies allow too.
func (e *IAM) assumeRole(w http.ResponseWriter, r *http.Request, c call, who caller, known bool) {
	ctx := r.Context()
	now := e.now()
	roleARN, sessionName := c.form.Get("RoleArn"), c.form.Get("RoleSessionName")
	refuse := func(reason string, args ...any) {
		e.log.Info("refused: sts:AssumeRole", append([]any{"principal", who.principal.ARN, "role", roleARN, "session", sessionName, "reason", reason}, args...)...)
		writeError(w, r, protocolQuery, http.StatusForbidden, "AccessDenied",
			fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", who.principal.ARN, roleARN))
	}
	name, ok := roleNameOf(roleARN, e.accountID)
	if !ok {
		refuse("not a role of this account")
		return
	}
	role, err := e.read.role(ctx, name, e.effectiveAt(now))
	if err != nil {
		e.log.Error("reading role for sts:AssumeRole", "role", name, "error", err)
		writeError(w, r, protocolQuery, http.StatusInternalServerError, "ServiceFailure", "the local cloud could not read the role: "+err.Error())
		return
	}
	if role == nil {
		refuse("no such role (or not yet propagated)")
		return
	}
	if d := c.form.Get("DurationSeconds"); d != "" {
		if n, err := strconv.Atoi(d); err == nil && role.maxSession > 0 && n > role.maxSession {
			writeError(w, r, protocolQuery, http.StatusBadRequest, "ValidationError",
				"The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
			return
		}
	}
	trust, err := iampolicy.Parse(role.trust)
	if err != nil {
		refuse("trust policy not evaluable", "error", err)
		return
	}
	pctx := e.baseContext(who, now)
	pctx.Set("sts:RoleSessionName", sessionName)
	if si := c.form.Get("SourceIdentity"); si != "" {
		pctx.Set("sts:SourceIdentity", si)
	}
	req := iampolicy.Request{Principal: who.principal, Action: "sts:AssumeRole", Resource: role.arn, Context: pctx}
	tr := trust.Evaluate(req)
	id, err := e.identityDecision(ctx, who, known, req, now)
	if err != nil {
		refuse("caller's identity policies not evaluable", "error", err)
		return
	}
	switch {
	case tr.Decision == iampolicy.Denied:
		refuse("explicit deny in the trust policy", "sid", tr.Sid)
		return
	case id.Decision == iampolicy.Denied:
		refuse("explicit deny in the caller's identity policies", "sid", id.Sid)
		return
	case tr.Decision != iampolicy.Allowed:
		refuse("no trust statement allows the caller")
		return
	case tr.ThroughAccount && id.Decision != iampolicy.Allowed:
		refuse("the trust policy names the caller's account or role only, and no identity policy of the caller allows it")
		return
	}

	buf := &bufferedResponse{header: http.Header{}}
	e.next.ServeHTTP(buf, r)
	if buf.status == http.StatusOK {
		if s, err := parseAssumeRole(buf.body.Bytes()); err != nil {
			e.log.Warn("could not read the AssumeRole answer; its session will not be recognised", "error", err)
		} else {
			s.roleSession.RoleARN, s.roleSession.RoleID, s.roleSession.Issued = role.arn, role.id, now
			s.roleSession.SourceIdentity = c.form.Get("SourceIdentity")
			e.remember(s.keyID, s.roleSession, now)
			e.log.Info("sts:AssumeRole allowed", "principal", who.principal.ARN, "session", s.roleSession.ARN, "sid", tr.Sid, "expires", s.roleSession.Expires)
		}
	}
	buf.copyTo(w)
}

// identityDecision evaluates the caller's own identity policies: a
// session's role's inline policies, a local identity's role's inline
// policies when that role exists in the emulator (else none). The local
// cloud's own principals are not evaluated: they may do anything.
func (e *IAM) identityDecision(ctx context.Context, who caller, known bool, req iampolicy.Request, now time.Time) (iampolicy.Result, error) {
	if !known {
		return iampolicy.Result{Decision: iampolicy.Allowed}, nil
	}
	roleName, ok := roleNameOf(who.principal.RoleARN, who.principal.Account)
	if !ok {
		return iampolicy.Result{}, nil
	}
	docs, err := e.read.inlinePolicies(ctx, roleName, e.effectiveAt(now))
	if err != nil {
		return iampolicy.Result{}, err
	}
	var policies []*iampolicy.Policy
	for name, doc := range docs {
		p, err := iampolicy.Parse(doc)
		if err != nil {
			// Fail closed: an unreadable policy may hold a Deny.
			return iampolicy.Result{Decision: iampolicy.Denied, Sid: name}, nil
		}
		policies = append(policies, p)
	}
	return iampolicy.Evaluate(req, policies...), nil
}

// sessionMayCall refuses a session's call that an inline policy of its
// role explicitly denies. A missing Allow is not enforced (see doc.go).
func (e *IAM) sessionMayCall(w http.ResponseWriter, r *http.Request, c call, who caller) bool {
	now := e.now()
	resource := e.resourceOf(c)
	req := iampolicy.Request{Principal: who.principal, Action: c.action(), Resource: resource, Context: e.baseContext(who, now)}
	res, err := e.identityDecision(r.Context(), who, true, req, now)
	if err != nil {
		e.log.Error("reading the session role's policies", "role", who.session.RoleARN, "error", err)
		writeError(w, r, c.protocol, http.StatusInternalServerError, "ServiceFailure", "the local cloud could not read the role's policies: "+err.Error())
		return false
	}
	if res.Decision != iampolicy.Denied {
		return true
	}
	e.log.Info("refused: explicit deny for a role session", "principal", who.principal.ARN, "action", req.Action, "resource", resource, "sid", res.Sid)
	writeError(w, r, c.protocol, accessDeniedStatus(c.protocol), accessDeniedCode(c.protocol),
		fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s with an explicit deny in an identity-based policy", who.principal.ARN, req.Action, resource))
	return false
}

// resourceOf names the resource of the calls whose resource the edge can
// read from the request; others are "*", which only Resource "*" (or a
// pattern matching it) covers.
func (e *IAM) resourceOf(c call) string {
	region := "us-east-1"
	switch {
	case c.service == "iam" && c.form.Get("RoleName") != "":
		return "arn:aws:iam::" + e.accountID + ":role/" + c.form.Get("RoleName")
	case c.service == "sts" && c.form.Get("RoleArn") != "":
		return c.form.Get("RoleArn")
	case c.service == "lambda" && c.form.Get("FunctionName") != "":
		fn := c.form.Get("FunctionName")
		if strings.HasPrefix(fn, "arn:") {
			return fn
		}
		return "arn:aws:lambda:" + region + ":" + e.accountID + ":function:" + fn
	}
	return "*"
}

func (e *IAM) remember(key string, s *roleSession, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, old := range e.sessions {
		if now.Sub(old.Expires) > 12*time.Hour {
			delete(e.sessions, k)
		}
	}
	e.sessions[key] = s
}

type issuedSession struct {
	keyID       string
	roleSession *roleSession
}

// parseAssumeRole reads the session out of STS's AssumeRole answer.
func parseAssumeRole(body []byte) (issuedSession, error) {
	var out struct {
		Result struct {
			Credentials struct {
				AccessKeyID string `xml:"AccessKeyId"`
				Expiration  string `xml:"Expiration"`
			} `xml:"Credentials"`
			User struct {
				ID  string `xml:"AssumedRoleId"`
				ARN string `xml:"Arn"`
			} `xml:"AssumedRoleUser"`
		} `xml:"AssumeRoleResult"`
	}
	if err := xml.Unmarshal(body, &out); err != nil {
		return issuedSession{}, fmt.Errorf("AssumeRole answer: %w", err)
	}
	res := out.Result
	exp, ok := iampolicy.ParseDate(res.Credentials.Expiration)
	if res.Credentials.AccessKeyID == "" || res.User.ARN == "" || !ok {
		return issuedSession{}, fmt.Errorf("AssumeRole answer lacks the access key, the session ARN or a readable expiration")
	}
	_, name, _ := strings.Cut(res.User.ID, ":")
	return issuedSession{keyID: res.Credentials.AccessKeyID, roleSession: &roleSession{ARN: res.User.ARN, Name: name, Expires: exp}}, nil
}

// roleNameOf returns the role name of a role ARN in account.
func roleNameOf(arn, account string) (string, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[4] != account || !strings.HasPrefix(parts[5], "role/") {
		return "", false
	}
	path := parts[5][len("role/"):]
	return path[strings.LastIndexByte(path, '/')+1:], path != ""
}

// accessKeyID reads the access key ID a request is signed with (header or
// presigned query).
func accessKeyID(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if _, c, ok := strings.Cut(r.Header.Get("Authorization"), "Credential="); ok {
		cred = c
	}
	key, _, _ := strings.Cut(cred, "/")
	return key
}

// signingService reads the service of the SigV4 credential scope
// (AKID/20240101/us-east-1/dynamodb/aws4_request).
func signingService(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if _, c, ok := strings.Cut(r.Header.Get("Authorization"), "Credential="); ok {
		cred = c
	}
	if i := strings.IndexAny(cred, ", "); i >= 0 {
		cred = cred[:i]
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[3]
}

func (e *IAM) control(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		var in struct {
			Propagation *float64 `json:"propagation_seconds"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&in); err != nil || in.Propagation == nil || *in.Propagation < 0 {
			writeJSON(w, http.StatusBadRequest, "InvalidRequest", map[string]string{"message": `want {"propagation_seconds": N} with N >= 0`})
			return
		}
		e.SetPropagation(time.Duration(*in.Propagation * float64(time.Second)))
	default:
		writeJSON(w, http.StatusMethodNotAllowed, "MethodNotAllowed", map[string]string{"message": "GET the IAM settings or POST {\"propagation_seconds\": N}"})
		return
	}
	b, _ := json.Marshal(map[string]any{"enforced": true, "propagation_seconds": e.Propagation().Seconds()})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
