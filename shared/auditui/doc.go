// Package auditui is the auditor page: server-rendered HTML for people who
// read the audit trail in a browser, behind the API function's GET /audit
// routes (no SigV4: browsers cannot sign).
//
//   - GET /audit/session/{token} shows a sign-in button and spends nothing
//     (link previewers fetch links); POST /audit/session/{token}, the
//     button's same-origin form, redeems the single-use sign-in link (made
//     by the signed API call POST /v1/audit/sessions, e.g. `jit audit open`)
//     for a one-hour session cookie, then redirects to the search;
//   - POST /audit/logout ends the session and clears the cookie;
//   - GET /audit searches the trail with the same parameters as
//     GET /v1/audit, a page at a time;
//   - GET /audit/requests/{id} shows one request and its events in order;
//   - GET /audit/export downloads a search as one CSV of at most 10,000
//     events, and says so rather than cutting a larger one short.
//
// Every page but the sign-in and sign-out needs a live session whose
// principal is still an auditor or admin. Pages only read: nothing here
// writes to the table except the session the sign-in opens and sign-out
// ends. Like the decision page, pages carry no script, only inline
// styles, a strict CSP, take forms only from their own origin, and escape
// every text they show with html/template.
//
// It must not build DynamoDB keys or parse search parameters itself: store
// and audit own those.
package auditui
