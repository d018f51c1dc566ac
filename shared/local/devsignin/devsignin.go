// Package devsignin is the local cloud's stand-in for `jit audit open`: a
// page at /_local/signin that lists the local identities allowed to audit
// (kinds auditor and admin) and, on a tap, asks the local gateway for a
// sign-in link as that identity (POST /v1/audit/sessions, SigV4-signed
// with its local keys, exactly as the CLI would) and sends the browser to
// it.
//
// It exists only in the local cloud: the keys it signs with are the
// non-secret ones in infra/local/identities.json. It must not reach the
// table or the functions directly; the auditor page's sign-in goes through
// the same gateway, API function and store as in AWS.
package devsignin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/jitaccess/jit/shared/local/gateway"
)

// Path is where the page is mounted.
const Path = "/_local/signin"

// Handler serves GET and POST /_local/signin.
type Handler struct {
	// Identities are those who may audit: kinds auditor and admin.
	Identities []gateway.Identity
	// APIURL is the local gateway's base URL, e.g. http://127.0.0.1:3000.
	APIURL string
	// Region the gateway checks signatures for; default us-east-1.
	Region string
	// Client calls the gateway; default a client with a 15 s timeout.
	Client *http.Client
	// Now is the signing clock; default time.Now.
	Now func() time.Time
}

// New serves a dev sign-in for the auditors and admins among ids against
// the gateway at apiURL.
func New(ids []gateway.Identity, apiURL string) *Handler {
	var auditors []gateway.Identity
	for _, id := range ids {
		if id.Kind == "auditor" || id.Kind == "admin" {
			auditors = append(auditors, id)
		}
	}
	return &Handler{Identities: auditors, APIURL: strings.TrimRight(apiURL, "/"), Region: "us-east-1",
		Client: &http.Client{Timeout: 15 * time.Second}, Now: time.Now}
}

// Load reads the identities file (infra/local/identities.json) with the
// gateway's loader and returns New's handler.
func Load(identitiesPath, apiURL string) (*Handler, error) {
	ids, err := gateway.LoadIdentities(identitiesPath)
	if err != nil {
		return nil, err
	}
	return New(ids, apiURL), nil
}

const maxForm = 4 << 10

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.render(w, http.StatusOK, view{Identities: h.Identities})
	case http.MethodPost:
		h.signIn(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		h.render(w, http.StatusMethodNotAllowed, view{Error: "Use the buttons on this page.", Identities: h.Identities})
	}
}

func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		h.render(w, http.StatusForbidden, view{Error: "This sign-in was posted from another site. Use the buttons on this page.", Identities: h.Identities})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.render(w, http.StatusBadRequest, view{Error: "The form could not be read.", Identities: h.Identities})
		return
	}
	name := r.PostForm.Get("as")
	var who *gateway.Identity
	for i := range h.Identities {
		if h.Identities[i].Name == name {
			who = &h.Identities[i]
		}
	}
	if who == nil {
		h.render(w, http.StatusBadRequest, view{Error: fmt.Sprintf("%q is not a local auditor or admin.", name), Identities: h.Identities})
		return
	}
	link, err := h.session(r.Context(), *who)
	if err != nil {
		h.render(w, http.StatusBadGateway, view{Error: "Could not get a sign-in link as " + who.Name + ": " + err.Error(), Identities: h.Identities})
		return
	}
	http.Redirect(w, r, link, http.StatusSeeOther)
}

// session asks the API for a sign-in link as id, signing the call with
// id's keys as the CLI signs with AWS credentials.
func (h *Handler) session(ctx context.Context, id gateway.Identity) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.APIURL+"/v1/audit/sessions", http.NoBody)
	if err != nil {
		return "", err
	}
	empty := sha256.Sum256(nil)
	creds := aws.Credentials{AccessKeyID: id.AccessKeyID, SecretAccessKey: id.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(empty[:]), "execute-api", h.region(), h.now()); err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	resp, err := h.client().Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("POST /v1/audit/sessions answered %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	var out struct {
		URL string `json:"url"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return "", fmt.Errorf("POST /v1/audit/sessions: %w", err)
	}
	// Only ever send the browser to a sign-in link on the page's own site.
	u, err := url.Parse(out.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.HasPrefix(u.Path, "/audit/session/") {
		return "", fmt.Errorf("POST /v1/audit/sessions returned %q, not a sign-in link", out.URL)
	}
	return out.URL, nil
}

// sameOrigin refuses posts another site's page made the browser send;
// browsers without Fetch Metadata or Origin pass.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		return err == nil && u.Host == r.Host
	}
	return true
}

// apiOrigin is " <scheme>://<host>" of the gateway, for the CSP.
func (h *Handler) apiOrigin() string {
	u, err := url.Parse(h.APIURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return " " + u.Scheme + "://" + u.Host
}

func (h *Handler) region() string {
	if h.Region == "" {
		return "us-east-1"
	}
	return h.Region
}

func (h *Handler) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

func (h *Handler) client() *http.Client {
	if h.Client == nil {
		return http.DefaultClient
	}
	return h.Client
}

type view struct {
	Error      string
	Identities []gateway.Identity
}

func (h *Handler) render(w http.ResponseWriter, status int, v view) {
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, v); err != nil {
		http.Error(w, "page failed", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"+h.apiOrigin()+"; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// The form posts here; browsers hold the redirect that follows a form
// post to form-action too, so the CSP also names the gateway's origin
// (the same one when the page is mounted on the gateway's port).
var pageTemplate = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Local sign-in · jit</title>
<style>
*{box-sizing:border-box}
body{margin:0;font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;background:#f4f5f7;color:#1b1f24}
main{max-width:36rem;margin:0 auto;padding:.75rem 1rem 2rem}
.brand{margin:0;font-size:.875rem;font-weight:700;letter-spacing:.04em;color:#57606a}
h1{font-size:1.5rem;line-height:1.25;margin:.125rem 0 .75rem}
.card{background:#fff;border-radius:.75rem;padding:1rem 1.125rem;box-shadow:0 1px 3px rgba(27,31,36,.15);margin:0 0 .75rem}
.note{border-left:.375rem solid #cf222e;padding:.75rem 1rem;margin:0 0 .75rem;background:#fff;border-radius:.5rem;overflow-wrap:anywhere}
ul{list-style:none;margin:0;padding:0}
li{margin:0 0 .75rem}
form{margin:0}
button{width:100%;min-height:3rem;font:inherit;font-weight:700;padding:.75rem 1rem;border:0;border-radius:.5rem;color:#fff;background:#0969da;cursor:pointer;text-align:left}
button:hover{background:#0550ae}
.who{display:block;font-weight:400;font-size:.9375rem;overflow-wrap:anywhere}
.hint{color:#57606a;font-size:.9375rem}
:focus-visible{outline:.1875rem solid #0969da;outline-offset:.25rem}
</style>
</head>
<body><main>
<p class="brand">jit · local cloud</p>
<h1>Sign in to the audit trail</h1>
{{with .Error}}<p class="note" role="alert">{{.}}</p>{{end}}
<section class="card" aria-labelledby="ids-heading">
<h2 id="ids-heading" style="font-size:1.125rem;margin:0 0 .75rem">Local auditors and admins</h2>
{{if .Identities}}<ul>
{{range .Identities}}<li><form method="post" action="/_local/signin"><button type="submit" name="as" value="{{.Name}}">Sign in as {{.Name}} ({{.Kind}})<span class="who">{{.PrincipalARN}}</span></button></form></li>
{{end}}</ul>{{else}}<p>infra/local/identities.json lists no identity of kind auditor or admin.</p>{{end}}
</section>
<p class="hint">This page exists only on the local cloud. It signs <code>POST /v1/audit/sessions</code> with the identity's local keys, as <code>jit audit open</code> does with AWS credentials, and opens the single-use link it returns.</p>
</main></body></html>
`))
