package main

import (
	"context"
	"flag"
	"fmt"
)

// Commands whose API routes do not exist yet. Each takes and checks its
// arguments as it will once the route exists, then says the API does not
// offer it (exit 2), naming the route it will call.

// notOffered is the answer of a command the API cannot serve yet.
func notOffered(what, route, meanwhile string) *exitError {
	return &exitError{Code: exitUsage, Kind: "not_offered",
		Message: fmt.Sprintf("the API does not offer %s yet (%s)", what, route), Hint: meanwhile}
}

var auditCommand = &command{
	name: "audit", args: "search",
	summary: "search the audit trail (not offered by the API yet)",
	about: `Search the audit trail of every request (auditors and admins).
The API does not offer this yet (it will be GET /v1/audit).`,
	examples: `  jit audit search`,
	setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string, []string) error {
		return func(ctx context.Context, pos, _ []string) error {
			if len(pos) < 1 || pos[0] != "search" {
				return usageErr("usage: jit audit search")
			}
			return notOffered("audit search", "GET /v1/audit",
				"meanwhile `jit status <id>` shows the full history of each of your own requests")
		}
	},
}
