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
