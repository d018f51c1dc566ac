// Package htmlpage renders the service's server-side HTML pages (the
// decision page, the auditor page) with the headers they all share: no
// scripts at all, styles only inline, forms only back to the same origin,
// no framing, no Referer that would carry a token elsewhere, no caching.
package htmlpage

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"

	"github.com/aws/aws-lambda-go/events"
)

// head is the start of every page up to its own styles: the document's
// head with the rules all pages share (type, colours, cards, notes,
// definition lists, links, focus). A page adds its own <style> and closes
// </head>.
const head = `{{define "head"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<meta name="color-scheme" content="light">
<title>{{.Title}} · jit</title>
<style>
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;background:#f4f5f7;color:#1b1f24}
.brand{margin:0;font-size:.875rem;font-weight:700;letter-spacing:.04em;color:#57606a;overflow-wrap:anywhere}
h1{font-size:1.5rem;line-height:1.25;margin:.125rem 0 .75rem;overflow-wrap:anywhere}
.card{background:#fff;border-radius:.75rem;padding:1rem 1.125rem;box-shadow:0 1px 3px rgba(27,31,36,.15);margin:0 0 .75rem}
.note{border-left:.375rem solid #57606a;padding:.75rem 1rem;margin:0 0 .75rem;background:#fff;border-radius:.5rem;box-shadow:0 1px 3px rgba(27,31,36,.15);overflow-wrap:anywhere}
.good{border-color:#1a7f37}.bad{border-color:#cf222e}.warn{border-color:#9a6700}
dl{margin:0}
dt{color:#57606a;font-size:.875rem;margin:.5rem 0 0}
dt:first-child{margin-top:0}
dd{margin:0;overflow-wrap:anywhere}
a{color:#0969da;text-underline-offset:.15em}
:focus-visible{outline:.1875rem solid #0969da;outline-offset:.125rem}
</style>{{end}}`

// Parse builds a page's template: page, which starts with
// {{template "head" .}} and its own <style>, on top of the shared head.
// Its data must have a Title.
func Parse(name string, funcs template.FuncMap, page string) *template.Template {
	return template.Must(template.Must(template.New(name).Funcs(funcs).Parse(head)).Parse(page))
}

// Headers returns a fresh copy of the pages' headers.
func Headers() map[string]string {
	return map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Cache-Control":           "no-store",
	}
}

// Render executes t with data into a response of status. If the template
// fails, the answer is a 500 with fallback, a sentence for the reader.
func Render(status int, t *template.Template, data any, fallback string) events.APIGatewayV2HTTPResponse {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		status = http.StatusInternalServerError
		b.Reset()
		b.WriteString("<!doctype html><title>Error</title><p>" + template.HTMLEscapeString(fallback) + "</p>")
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: Headers(), Body: b.String()}
}

// SameOrigin refuses cross-site form posts. Browsers send Sec-Fetch-Site
// and Origin on POST; a page elsewhere cannot forge either.
func SameOrigin(req events.APIGatewayV2HTTPRequest) bool {
	if site := req.Headers["sec-fetch-site"]; site != "" && site != "same-origin" && site != "none" {
		return false
	}
	origin := req.Headers["origin"]
	if origin == "" || origin == "null" {
		return req.Headers["sec-fetch-site"] != "" || origin == ""
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == req.RequestContext.DomainName
}
