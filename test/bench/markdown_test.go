package bench

import (
	"fmt"
	"sort"
	"strings"
)

// Sources cited in RESULTS.md for what to expect on AWS.
const (
	citeSFN     = "https://docs.aws.amazon.com/step-functions/latest/dg/concepts-standard-vs-express.html"
	citeLambda  = "https://aws.amazon.com/blogs/compute/operating-lambda-performance-optimization-part-1/"
	citeRuntime = "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-provided.html"
	citeSES     = "https://docs.aws.amazon.com/ses/latest/dg/send-email-concepts-process.html"
	citeIAMq    = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"
	citeIAMec   = "https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency"
	citeDDBRead = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html"
	citeGSILag  = "https://repost.aws/knowledge-center/dynamodb-missing-table-items-gsi"
)

// d formats milliseconds for a table.
func d(v float64) string {
	switch a := max(v, -v); {
	case a >= 10000:
		return fmt.Sprintf("%.1f s", v/1000)
	case a >= 1000:
		return fmt.Sprintf("%.2f s", v/1000)
	case a >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case a >= 10:
		return fmt.Sprintf("%.1f ms", v)
	default:
		return fmt.Sprintf("%.2f ms", v)
	}
}

func mb(b int64) string { return fmt.Sprintf("%.2f MB", float64(b)/1e6) }

// row renders "| name | n | median | p99 | note |".
func row(name string, s Summary, note string) string {
	if s.N == 0 {
		return fmt.Sprintf("| %s | 0 | – | – | %s |\n", name, note)
	}
	return fmt.Sprintf("| %s | %d | %s | %s | %s |\n", name, s.N, d(s.Median), d(s.P99), note)
}

const summaryHeader = "| figure | n | median | p99 | notes |\n| --- | ---: | ---: | ---: | --- |\n"

func (r *Results) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	m := r.Machine
	commit := m.GitCommit
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if m.GitDirty {
		commit += " (with uncommitted changes)"
	}
	w("# Benchmarks on the local cloud\n\n")
	w("Written by `make bench` (`test/bench`); do not edit by hand, run it again. ")
	w("Run of %s, commit %s, took %.0f s (building the functions twice: %.0f s).\n\n", m.Date, commit, r.Setup.TotalSeconds, r.Setup.BuildSeconds)
	w("Machine: %d CPUs (`nproc`)", m.CPUs)
	if m.CPUModel != "" {
		w(", %s", m.CPUModel)
	}
	w(", %.1f GiB memory, %s/%s, %s, moto %s. Policy: `%s`.\n\n", float64(m.MemoryMB)/1024, m.OS, m.Arch, m.GoVersion, m.MotoVersion, r.Setup.Policy)

	w("## How to read this\n\n")
	w("- Everything runs on this one machine: moto (one Python process) plays DynamoDB, Step Functions, IAM and SES; ")
	w("the functions are the deployable `bootstrap` binaries run as local processes behind the local Lambda runner; ")
	w("the local HTTP API checks SigV4 and builds API Gateway v2 events; the edge proxy between the functions and moto counts and times every AWS call (`cloud.Options.Observe`).\n")
	w("- Each sample is timed by the benchmark with its own timestamps. Figures are the **median** and **p99** over `n` samples (p99 of ~200 samples is roughly the 2nd–3rd worst, so it is noisy); `results.json` also has min, max and mean.\n")
	w("- Events the benchmark cannot see directly are bracketed: the figure is the middle of the window in which the event happened, and the *resolution* rows give that window's width. ")
	w("Writes are seen at the edge (the window is the AWS call itself, a few ms); the GetRole rows poll the role every %s and the window spans two polls.\n", d(r.lifecyclePoll()))
	w("- moto is slow, single-threaded Python, and the local cloud serializes DynamoDB calls; on 2 CPUs it also competes with the functions for CPU. **Where a figure is mostly emulator time, the tables say so and give the part our code controls.** ")
	w("moto's `TransactWriteItems` also copies the whole table first (once per item it writes), so its cost grows with the table; the benchmark deletes (directly on moto, uncounted) the items of requests it is done with, between steps and as lifecycles end (see the cleanup table at the end). ")
	w("Absolute numbers here say little about AWS; the call counts, our code's share, and the relative figures are what carry over.\n\n")

	r.glance(&b)
	r.lifecycleSection(&b)
	r.apiSection(&b)
	r.callsSection(&b)
	r.functionsSection(&b)
	r.auditSection(&b)
	r.findingsSection(&b)
	r.cleanupSection(&b)
	return b.String()
}

func (r *Results) lifecyclePoll() float64 {
	if r.Lifecycle != nil {
		return r.Lifecycle.PollEveryMS
	}
	return 0
}

func (r *Results) glance(b *strings.Builder) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	w("## At a glance\n\n")
	w(summaryHeader)
	if l := r.Lifecycle; l != nil {
		b.WriteString(row("1. request accepted (201) → approval email recorded by the emulator", l.RequestToEmail, "mostly emulator and local Lambda (see §1)"))
		b.WriteString(row("2a. approve POST → 200", l.ApprovePOST, "decide function, through the gateway"))
		b.WriteString(row("2b. approve 200 → grant applied (trust policy written)", l.ApproveToGrant, "Step Functions resume + grant function"))
		b.WriteString(row("3. expiry → access removed (statement gone)", l.ExpiryToRemoved, fmt.Sprintf("of which the workflow's timer: %s median (see §3)", d(l.ExpiryToHoldEnd.Median))))
	}
	if rl := r.RevokeLifecycle; rl != nil {
		b.WriteString(row("3b. revoke POST → 202", rl.RevokePOST, "api function: record intent, signal the workflow"))
		b.WriteString(row("3b. revoke 202 → access removed", rl.RevokeToRemoved, "workflow resumes, revoke function edits the role"))
	} else if r.Revoke != "" {
		w("| 3b. revoke POST → access removed | – | – | – | %s |\n", r.Revoke)
	}
	for _, op := range []string{"create", "get", "list"} {
		if h := r.Handler[op]; h != nil {
			b.WriteString(row("4. api handler "+op+", in process: total", h.Total, fmt.Sprintf("our code: median %s, p99 %s", d(h.Ours.Median), d(h.Ours.P99))))
		}
	}
	for _, g := range r.Gateway {
		if g.Clients == 32 || g.Clients == 1 {
			b.WriteString(row(fmt.Sprintf("4. HTTP %s, %d client(s)", g.Op, g.Clients), g.Latency, fmt.Sprintf("%.1f req/s", g.Throughput)))
		}
	}
	r.auditRows(b)
	w("\n")
	if c := r.Calls; c != nil {
		for _, l := range c.Lifecycles {
			w("5. AWS calls at the edge, one %s lifecycle: **%d** (%s); Lambda invocations: %s.\n\n", l.Kind, l.Total, serviceList(l.ByService), invocationList(l.Invocations))
		}
	}
	if len(r.Functions) > 0 {
		var sizes []string
		for _, f := range r.Functions {
			sizes = append(sizes, fmt.Sprintf("%s %s", strings.TrimSuffix(f.Name, "Function"), mb(f.Arm64Bytes)))
		}
		w("6. Binaries (linux/arm64, as deployed): %s. Cold start to first response (median of %d): %s.\n\n", strings.Join(sizes, ", "), r.Functions[0].ColdStartFirst.N, r.coldRange())
	}
	r.auditGlance(b)
}

func (r *Results) coldRange() string {
	lo, hi := 0.0, 0.0
	for i, f := range r.Functions {
		v := f.ColdStartFirst.Median
		if i == 0 || v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return d(lo) + "–" + d(hi)
}

func serviceList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		out = append(out, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(out, ", ")
}

func invocationList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		out = append(out, fmt.Sprintf("%s ×%d", strings.TrimSuffix(k, "Function"), m[k]))
	}
	return strings.Join(out, ", ")
}

func (r *Results) lifecycleSection(b *strings.Builder) {
	l := r.Lifecycle
	if l == nil {
		return
	}
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	measured := l.RequestToEmail.N
	w("## 1–3. A request's lifecycle\n\n")
	if r.Revoke != "" {
		w("**Early revoke is pending:** %s.\n\n", r.Revoke)
	}
	w("**Method.** %d lifecycles (%d measured), %d in flight at once, alternately for alice and bob, on %s. ", l.Lifecycles, measured, l.Inflight, strings.Join(l.Resources, " and "))
	w("Each: `POST /v1/requests` (duration %s) through the local gateway → wait for the approval email → `POST /d/{token}` with `decision=approve` → wait for the trust statement → let it expire. ", l.Duration)
	w("Approvals are gated per role: one at a time, and only while fewer than %d of the benchmark's grants are active on the role, because IAM caps a role's trust policy at 2,048 characters by default ([IAM quotas](%s)) and the grant function refuses a grant that would exceed it (each statement is about 300 characters; the longest policy seen was %d characters, %d statements). ", l.PerRole, citeIAMq, l.MaxTrustPolicyChars, l.MaxStatements)
	w("The lifecycle step took %.0f s. Final statuses: %s.", l.WallSeconds, statusList(l.FinalStatuses))
	if len(l.NotMeasured) > 0 {
		w(" Not measured (%d): `%s`%s.", len(l.NotMeasured), l.NotMeasured[0], map[bool]string{true: " and others", false: ""}[len(l.NotMeasured) > 1])
	}
	w("\n\n")
	w(summaryHeader)
	b.WriteString(row("create POST → 201 (through the gateway)", l.CreatePOST, "api function: policy read, one transaction, StartExecution"))
	b.WriteString(row("**1. request accepted → approval email recorded**", l.RequestToEmail, "moto stored the message when SendEmail returned"))
	b.WriteString(row("  resolution (the SendEmail call)", l.EmailResolution, ""))
	b.WriteString(row("**2a. approve POST latency**", l.ApprovePOST, "decide: link, request, decision transaction, SendTaskSuccess"))
	b.WriteString(row("**2b. approve 200 → grant applied**", l.ApproveToGrant, "UpdateAssumeRolePolicy with the statement returned"))
	b.WriteString(row("  resolution (the UpdateAssumeRolePolicy call)", l.GrantResolution, ""))
	b.WriteString(row("2b'. approve 200 → statement visible to GetRole", l.ApproveToGrantPoll, "polling GetRole, as a client would"))
	b.WriteString(row("  resolution (two polls)", l.GrantPollResolution, fmt.Sprintf("GetRole took %s median", d(l.TrustPollMS.Median))))
	b.WriteString(row("**3. expiry (expires_at) → access removed**", l.ExpiryToRemoved, "statement gone from the trust policy"))
	b.WriteString(row("  Hold ends → access removed", l.HoldEndToRemoved, "the part after the workflow's timer: revoke invoke and its calls"))
	b.WriteString(row("  expires_at → Hold ends", l.ExpiryToHoldEnd, "the workflow's timer (negative: it ended early)"))
	b.WriteString(row("  resolution (the UpdateAssumeRolePolicy call)", l.RemovalResolution, ""))
	b.WriteString(row("3'. expiry → removal visible to GetRole", l.ExpiryToRemovedPoll, ""))
	w("\n")
	w("**How to read them.**\n\n")
	w("- *1* runs: the api function's `StartExecution` → moto's interpreter starts the execution → `lambda:invoke.waitForTaskToken` → the edge → notify (reads the request, writes links and the task token in one transaction, sends through SES). ")
	w("On AWS this is a Standard workflow's first transitions plus one Lambda invoke plus SES's API call. AWS publishes no latency figure for Standard state transitions (not cited; [Standard vs Express](%s) documents only their semantics and rates). ", citeSFN)
	w("SES: once SES has accepted a message, *\"the first delivery attempt normally occurring within milliseconds\"* ([how email sending works](%s)); arrival in the approver's inbox then depends on their mail provider and is not bounded by AWS.\n", citeSES)
	w("- *2a* is one decide invocation (warm) and its calls; *2b* is what happens after the 200: `SendTaskSuccess` resumes the execution, the Choice state, then the grant function (read, lease, GetRole, UpdateAssumeRolePolicy, release, activate). ")
	w("On AWS, IAM is eventually consistent: a trust policy change *\"takes time to become visible\"* ([IAM eventual consistency](%s)), so the time until `sts:AssumeRole` succeeds can be longer than 2b; no figure is published.\n", citeIAMec)
	if l.ExpiryToHoldEnd.Median < 0 {
		w("- *3*: the Hold state is a `waitForTaskToken` task whose timeout is the whole seconds left until `expires_at`, rounded down, so it ends up to a second *before* `expires_at` (median %s); moto then runs Revoke. ", d(l.ExpiryToHoldEnd.Median))
	} else {
		w("- *3*: the Hold state is a `waitForTaskToken` task whose timeout is the seconds left until `expires_at`, rounded up, so it ends at or after `expires_at` (median %s after: the rounding plus moto's timer); moto then runs Revoke. ", d(l.ExpiryToHoldEnd.Median))
	}
	w("The figure that our code controls is *Hold ends → access removed*. ")
	w("The trust statement itself carries `DateLessThan aws:CurrentTime = expires_at`, so on AWS no new session can start after `expires_at` whatever the revoke's delay. ")
	w("Removing access is the statement leaving the trust policy; in the same invocation the revoke function also adds an inline deny for the user's sessions issued before now (GetRolePolicy + PutRolePolicy), so sessions already open stop working too.\n")
	w("- Where the emulator dominates: every AWS call in these paths is a moto call (edge time per operation below), and each Lambda hop is the local runner. ")
	w("The lifecycles made %.1f AWS calls each on average at the edge (%d in all; Lambda invocations: %s).\n\n", l.EdgeCallsPerLifecycle, l.EdgeCalls, invocationList(l.Invocations))
	w("Emulator time per operation during the lifecycle step (edge time: moto plus the proxy; for Invoke, the whole function run):\n\n")
	opTable(b, l.ByOperation, 14)
	if rl := r.RevokeLifecycle; rl != nil {
		w("### 3b. Early revoke: revoke POST → access removed\n\n")
		w("**Method.** %d more lifecycles (%d measured) as above but with duration %s; as soon as the request is recorded `active`, its requester sends `POST /v1/requests/{id}/revoke` (the route exists now) and the benchmark waits for the trust statement to go. ", rl.Lifecycles, rl.RevokePOST.N, rl.Duration)
		w("Approvals are gated per role as above; revokes are not, so a revoke can meet another lifecycle's grant on the same role and wait for the role lease, as in production. Step took %.0f s; final statuses: %s.\n\n", rl.WallSeconds, statusList(rl.FinalStatuses))
		w(summaryHeader)
		b.WriteString(row("**3b. revoke POST → 202**", rl.RevokePOST, "api: read, record the intent, read the hold token, SendTaskSuccess"))
		b.WriteString(row("**3b. revoke 202 → access removed**", rl.RevokeToRemoved, "resume → RevokeEarly → revoke function → UpdateAssumeRolePolicy"))
		b.WriteString(row("  resolution (the UpdateAssumeRolePolicy call)", rl.RemovalResolution, ""))
		b.WriteString(row("3b'. revoke 202 → removal visible to GetRole", rl.RevokeToRemovedPoll, ""))
		b.WriteString(row("approve 200 → grant applied (same run)", rl.ApproveToGrant, ""))
		w("\nThe 202 means \"revoking\": the workflow is signalled before the answer, so most of the removal happens after it. On AWS the path is SendTaskSuccess → Choice → one Lambda invoke → IAM writes; AWS publishes no latency for the Step Functions part (not cited), and IAM's change is then eventually consistent (see above).\n\n")
	}
	if rr := r.IAMRace; rr != nil {
		w("**One role, %d approvals at once.** A separate probe approves %d requests for `sandbox-admin` at the same moment: %d became active, %d statements were ever in the trust policy, %d were present once all grants had run, %d were left after expiry; final statuses %s; longest policy %d characters.",
			rr.Concurrent, rr.Concurrent, rr.Active, rr.StatementsSeen, rr.StatementsPresent, rr.LeftAfterExpiry, statusList(rr.FinalStatuses), rr.MaxPolicyChars)
		if len(rr.Failures) > 0 {
			w(" Failures: `%s`.", rr.Failures[0])
		}
		w("\n\n")
	}
}

func statusList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		out = append(out, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(out, ", ")
}

func opTable(b *strings.Builder, ops []OpStat, limit int) {
	b.WriteString("| operation | calls | median | p99 |\n| --- | ---: | ---: | ---: |\n")
	for i, o := range ops {
		if i >= limit {
			break
		}
		fmt.Fprintf(b, "| %s | %d | %s | %s |\n", o.Op, o.Count, d(o.Edge.Median), d(o.Edge.P99))
	}
	b.WriteString("\n")
}

func (r *Results) apiSection(b *strings.Builder) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	w("## 4. API latency: create, get, list\n\n")
	if len(r.Handler) > 0 {
		w("### In process: `api.Handler.Handle` (`go test -bench BenchmarkHandler -benchmem`)\n\n")
		w("The real store against moto through the edge; the workflow is a stub whose `Start` returns at once (a real one would set off notify and an email per iteration on the same 2 CPUs; `StartExecution` is in §1 and the HTTP figures). ")
		w("Each call is split into *emulator* (edge time of its DynamoDB calls), *SDK and transport* (DynamoDB client time minus that) and *our code* (the rest: routing, validation, policy parse, JSON, store marshalling).\n\n")
		w("| op | n | total median | total p99 | emulator median | SDK+transport median | **our code median** | our code p99 | DynamoDB calls/op | allocs/op | bytes/op |\n")
		w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, op := range []string{"create", "get", "list"} {
			h := r.Handler[op]
			if h == nil {
				continue
			}
			w("| %s | %d | %s | %s | %s | %s | **%s** | %s | %.0f | %d | %d |\n", op, h.Samples, d(h.Total.Median), d(h.Total.P99), d(h.Emulator.Median), d(h.SDK.Median), d(h.Ours.Median), d(h.Ours.P99), h.CallsPerOp, h.AllocsPerOp, h.BytesPerOp)
		}
		w("\n")
		if p := r.PolicyParse; p != nil {
			w("Of create's own time, parsing the stored policy (%d bytes of YAML, done on every create) takes %s, %d allocations and %d bytes (`BenchmarkPolicyParse`).\n\n", p.DocumentBytes, d(float64(p.NsPerOp)/1e6), p.AllocsPerOp, p.BytesPerOp)
		}
		w("allocs/op and bytes/op include the AWS SDK's. The emulator dominates every total: moto answers a GetItem in milliseconds where our code needs well under one.\n\n")
	}
	if len(r.Gateway) > 0 {
		w("### Through the local HTTP gateway (SigV4 check, API Gateway v2 event, the api function process)\n\n")
		w("Each step sends %d signed requests from 1, 8 or 32 concurrent clients (alice for get/list; alice and bob for create), after the previous step's background work has finished; the api function runs with up to 4 processes, as the local cloud configures it. ", r.Gateway[0].Requests)
		w("*Emulator ms/request* is the edge time of all AWS calls the step caused divided by its requests; for create that includes the workflow and the approval email each create sets off, which run concurrently with later creates.\n\n")
		w("| op | clients | n | req/s | median | p99 | AWS calls/request | emulator ms/request | errors |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, g := range r.Gateway {
			w("| %s | %d | %d | %.1f | %s | %s | %.1f | %s | %d |\n", g.Op, g.Clients, g.Latency.N, g.Throughput, d(g.Latency.Median), d(g.Latency.P99), g.EdgeCalls, d(g.EmulatorMS), g.Errors)
		}
		w("\n")
		w("Throughput is bounded by moto, which serves one DynamoDB call at a time: once the emulator is saturated, more clients only add queueing (latency grows about linearly with clients while req/s stays flat). ")
		w("On AWS the same calls are single-digit-millisecond DynamoDB operations and API Gateway and Lambda scale out; these numbers are not a capacity estimate.\n\n")
		for _, g := range r.Gateway {
			if g.FirstError != "" {
				w("First error of %s with %d clients: `%s`.\n\n", g.Op, g.Clients, g.FirstError)
			}
		}
	}
}

func (r *Results) callsSection(b *strings.Builder) {
	c := r.Calls
	if c == nil {
		return
	}
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	w("## 5. AWS API calls per request lifecycle\n\n")
	w("One lifecycle at a time on an otherwise idle system, every call counted at the local edge by service and operation (SigV4 credential scope for the service; `X-Amz-Target`, `Action=` or the REST path for the operation). ")
	w("Calls are attributed to the function whose invocation was in progress when they started (invocations do not overlap here); calls outside any edge-visible invocation belong to the function the gateway invoked for that step (gateway invocations do not pass the edge). ")
	w("**Not counted:** what moto's Step Functions interpreter does internally (state transitions, the Choice and timers) never passes the edge; its Lambda invokes do. The state-transition count comes from the execution history instead (Standard workflows are billed per state transition). ")
	w("**DynamoDB capacity:** not derivable from moto: asked for `ReturnConsumedCapacity`, moto returns a fixed 1.0 (0.5 for some reads) per GetItem/Query and nothing for TransactWriteItems, whatever the item sizes; so capacity units are not reported.\n\n")
	for _, l := range c.Lifecycles {
		w("### %s (duration %s): %d calls, %d state transitions\n\n", l.Kind, l.Duration, l.Total, l.Transitions)
		w("By service: %s. Lambda invocations (runner counts, including the gateway's): %s. Emulator time of these calls: %s.\n\n", serviceList(l.ByService), invocationList(l.Invocations), d(l.EmulatorMS))
		w("| operation | calls |\n| --- | ---: |\n")
		for _, o := range l.ByOperation {
			w("| %s | %d |\n", o.Op, o.Count)
		}
		w("\n")
		for _, s := range l.Steps {
			w("**%s** — %d calls, %s emulator time:\n\n", s.Name, s.Calls, d(s.EmulatorMS))
			owners := make([]string, 0, len(s.ByFunction))
			for k := range s.ByFunction {
				owners = append(owners, k)
			}
			sort.Strings(owners)
			for _, o := range owners {
				var parts []string
				for _, oc := range s.ByFunction[o] {
					parts = append(parts, fmt.Sprintf("%s ×%d", oc.Op, oc.Count))
				}
				w("- %s: %s\n", o, strings.Join(parts, ", "))
			}
			w("\n<details><summary>call sequence</summary>\n\n")
			for i, q := range s.Sequence {
				w("%d. %s\n", i+1, q)
			}
			w("\n</details>\n\n")
		}
	}
}

func (r *Results) functionsSection(b *strings.Builder) {
	if len(r.Functions) == 0 {
		return
	}
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	f0 := r.Functions[0]
	w("## 6. Function binaries and cold start\n\n")
	w("Built as for AWS: `GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w'`, and the same for this machine (%s), which is what the local cloud runs. ", f0.HostTarget)
	w("Cold start: a fresh local runner per sample starts the function's process and sends it one event, `%s`, which every handler rejects while decoding, so no handler code and no AWS call run; ", f0.FirstEvent)
	w("*to ready* is process start → its first call to the Runtime API's `/next` (the runner's cold-start figure), *to first response* adds that event's round trip. %d samples per function; *warm* is a second event to the same process.\n\n", f0.ColdStartFirst.N)
	w("| function | linux/arm64 | %s | cold: to ready, median | p99 | cold: to first response, median | p99 | warm invoke, median |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n", f0.HostTarget)
	for _, f := range r.Functions {
		w("| %s | %s | %s | %s | %s | %s | %s | %s |\n", f.Name, mb(f.Arm64Bytes), mb(f.HostBytes), d(f.ColdStartReady.Median), d(f.ColdStartReady.P99), d(f.ColdStartFirst.Median), d(f.ColdStartFirst.P99), d(f.WarmInvoke.Median))
	}
	w("\n**AWS-side expectation.** This is a process start on a warm host with the binary in the page cache; it does not include what Lambda adds for a new execution environment (creating it, fetching and unpacking the deployment package). ")
	w("Go functions deploy on the OS-only runtime `provided.al2023` as a single `bootstrap` executable ([OS-only runtimes](%s)); AWS does not publish a cold-start figure per runtime. ", citeRuntime)
	w("AWS's own guidance puts cold starts at typically under 1%% of invocations, lasting from under 100 ms to over a second ([Operating Lambda: performance optimization](%s)); the `Init Duration` of a function's REPORT log line is the figure to watch once deployed. Binary size matters there (the package is fetched and unpacked), so the sizes above are the comparable part.\n\n", citeLambda)
}

func (r *Results) findingsSection(b *strings.Builder) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	w("## The biggest costs left in our code path\n\n")
	w("From the call counts in §5 (approve → grant → expire lifecycle), the binary sizes in §6 and the in-process split in §4. ")
	w("Already done: every status change is conditional on the status its caller read and reads again only on a conflict (the refusal carries the item, `ReturnValuesOnConditionCheckFailure`); single-item writes (lease, hold token, revoke intent, audit records) are conditional `PutItem`/`UpdateItem`, not transactions; the role lease returns its state from the write that takes it and is given up inside the transaction that records the grant or the end; the Hold task tells the requester of the grant from the request its write returned; the choices leading to a grant test the scheduled start themselves.\n\n")
	var life *Lifecycle
	if r.Calls != nil {
		for _, l := range r.Calls.Lifecycles {
			if strings.HasSuffix(l.Kind, "expire") {
				life = l
			}
		}
	}
	count := func(op string) int {
		if life == nil {
			return 0
		}
		for _, o := range life.ByOperation {
			if o.Op == op {
				return o.Count
			}
		}
		return 0
	}
	stepCount := func(fn, op string) int {
		if life == nil {
			return 0
		}
		n := 0
		for _, s := range life.Steps {
			for _, oc := range s.ByFunction[fn] {
				if oc.Op == op {
					n += oc.Count
				}
			}
		}
		return n
	}
	getItems := count("dynamodb GetItem")
	w("1. **Each hop still reads the request it was handed.** The workflow carries only the request id, so every function it invokes starts with a consistent `GetItem` of the request: grant (%d), each outcome notice (notify made %d reads besides the approval's), revoke (%d, one of them the lease check before the trust write), and decide reads the link and then the request (%d). ",
		stepCount("GrantFunction", "dynamodb GetItem"), stepCount("NotifyFunction", "dynamodb GetItem"), stepCount("RevokeFunction", "dynamodb GetItem"), stepCount("DecideFunction", "dynamodb GetItem"))
	w("Evidence: %d `GetItem`s in one approve → grant → expire lifecycle. ", getItems)
	w("*Fix:* put the request as its last write left it (`ReturnValues: ALL_NEW`) into the task's result and the next task's payload; the next write's condition still refuses a stale copy, so a read is needed only on a conflict. Saves one read per hop.\n")
	w("2. **Each end is told in a state of its own, and the binaries carry every SDK method.** TellExpired, TellRevoked and TellDenied are a state transition, a Lambda invocation and a read each, after the work is done; telling from the task that ended the request (as Hold tells of the grant) saves all three. ")
	w("The api, decide and notify binaries (§6) are larger than the others because `text/template` and `html/template` call methods by name (`reflect.Value.MethodByName`), which makes the Go linker keep every exported method of every linked type, the AWS clients' included. *Fix:* render pages and emails with code generated from the templates, or plain `strings.Builder` writers, so dead-code elimination works again.\n")
	parse := ""
	if p := r.PolicyParse; p != nil {
		parse = fmt.Sprintf(" Parsing the %d-byte e2e policy alone takes %s, %d allocations and %d KB (`BenchmarkPolicyParse`)", p.DocumentBytes, d(float64(p.NsPerOp)/1e6), p.AllocsPerOp, p.BytesPerOp/1024)
	}
	ours := ""
	if h := r.Handler["create"]; h != nil {
		ours = fmt.Sprintf(", against %s of our code and %d allocations for the whole create (SDK included)", d(h.Ours.Median), h.AllocsPerOp)
	}
	size := fmt.Sprintf("%d bytes here", r.policyBytes())
	if r.policyBytes() > 4096 {
		size += ", so the item is over 4 KB and each strongly consistent read costs two read units"
	}
	w("3. **Every create reads the whole policy document.** `api.Handler.policy` does a consistent `GetItem` of `POLICY#CURRENT`, whose item carries the full YAML (%s), although a warm function parses each version only once.%s%s. ",
		size, parse, ours)
	w("*Fix:* read only the version (a `ProjectionExpression`, or a small pointer item) and the document only when the version changed.\n\n")
	w("Also found (correctness and capacity, not cost): one role holds only as many grants as fit its trust policy (about %d statements at IAM's default 2,048-character quota; see the one-role probe in §1–3), so concurrent grants beyond that fail by design until the quota is raised. ", r.statementsFit())
	w("In this local cloud, moto's `/moto-api/data.json` (which the inbox polls every 250 ms) serializes the emulator's whole state: after ~40 requests one read took 2–3 s of moto's only Python process, which slows everything else; the benchmark turns that poll off (`cloud.Options.InboxPoll`) and reads SES calls at the edge instead.\n\n")
}

func (r *Results) policyBytes() int {
	if r.PolicyParse != nil {
		return r.PolicyParse.DocumentBytes
	}
	return 0
}

func (r *Results) statementsFit() int {
	if rr := r.IAMRace; rr != nil && rr.StatementsPresent > 0 {
		return rr.StatementsPresent
	}
	if l := r.Lifecycle; l != nil {
		return l.MaxStatements
	}
	return 0
}

func (r *Results) cleanupSection(b *strings.Builder) {
	if len(r.Tables) == 0 {
		return
	}
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	w("## Table cleanups\n\n| before step | items | kept | items during the step, median | at most | step took |\n| --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, t := range r.Tables {
		during, most := "–", "–"
		if t.During.N > 0 {
			during, most = fmt.Sprintf("%.0f", t.During.Median), fmt.Sprintf("%.0f", t.During.Max)
		}
		took := "–"
		if t.Seconds > 0 {
			took = fmt.Sprintf("%.0f s", t.Seconds)
		}
		w("| %s | %d | %d | %s | %s | %s |\n", t.Before, t.Items, t.Kept, during, most, took)
	}
	w("\nThe lifecycle steps also delete each request's items (the request, its approvals, its audit events under `EVENT#`, its links) once it has ended; the audit step keeps its trail until the next step. Kept items are the policy, its events, leases, and the requests later steps read. *During the step* is counted every 5 s (a `Select=COUNT` Scan, directly on moto).\n")
}
