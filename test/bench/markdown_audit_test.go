package bench

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// measured reports whether the audit step ran (the CSV benchmark alone
// fills only CSV).
func (a *AuditResults) measured() bool { return a != nil && len(a.Searches) > 0 }

// auditRows are figure 7's rows of the "At a glance" table.
func (r *Results) auditRows(b *strings.Builder) {
	a := r.Audit
	if !a.measured() {
		return
	}
	for _, s := range a.Searches {
		b.WriteString(row(fmt.Sprintf("7a. GET /v1/audit, filter: %s (page of %d)", s.Filter, a.Page), s.Latency,
			fmt.Sprintf("%s; %s Query, %s entries read per search; emulator %s median", s.Index, trimFloat(s.Queries), trimFloat(s.Scanned), d(s.Emulator.Median))))
	}
	if f := a.Fresh; f != nil {
		b.WriteString(row("7b. approve 200 → approved event returned by a search", f.Found,
			fmt.Sprintf("during the lifecycle step; %s search(es) needed at most", trimFloat(f.Polls.Max))))
	}
	if ex := a.Export; ex != nil {
		b.WriteString(row(fmt.Sprintf("7c. CSV export of all %d events (%s)", ex.Events, plural(ex.Pages, "page")), ex.Total,
			fmt.Sprintf("%.0f events/s; %s Queries per export", ex.EventsPerS, trimFloat(ex.EdgeQueries))))
	}
}

// auditGlance is figure 7's line under the table.
func (r *Results) auditGlance(b *strings.Builder) {
	a := r.Audit
	if !a.measured() {
		fmt.Fprintf(b, "7. Audit search: %s.", r.AuditPending)
		if a != nil && a.CSV != nil {
			fmt.Fprintf(b, " 7d. %s", csvLine(a.CSV))
		}
		b.WriteString("\n\n")
		return
	}
	fmt.Fprintf(b, "7. Audit search over a table of %d items (%d audit events), pages of %d events; 7d. %s\n\n", a.TableItems, a.EventItems, a.Page, csvLine(a.CSV))
}

func csvLine(c *AuditCSV) string {
	if c == nil {
		return "`audit.WriteCSV` not measured."
	}
	return fmt.Sprintf("`audit.WriteCSV` in process: %d events in %s (%.0f events/s, %d allocations, %d bytes of CSV).",
		c.Events, d(float64(c.NsPerOp)/1e6), c.EventsPerS, c.AllocsPerOp, c.OutputBytes)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func trimFloat(v float64) string { return strings.TrimSuffix(fmt.Sprintf("%.1f", v), ".0") }

func (r *Results) auditSection(b *strings.Builder) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	a := r.Audit
	w("## 7. Audit search\n\n")
	if !a.measured() {
		w("%s. Nothing measured through the API.", r.AuditPending)
		if a != nil && a.CSV != nil {
			w(" %s", csvLine(a.CSV))
		}
		w("\n\n")
		return
	}
	w("The question is how long an auditor waits for an answer. All of it runs through the local HTTP gateway as the auditor (frank), SigV4-signed, on the api function.\n\n")
	w("**The trail searched** is real: every item was written by the functions during real lifecycles. ")
	w("The lifecycle steps kept the items of their first finished requests (%s), copying them off moto as the janitor deleted them, so that they did not weigh on moto while those steps were measured; this step put them back (BatchWriteItem, directly on moto) and ran %d more lifecycles through the gateway, %d at a time, that end before any grant (%s, alternately for alice and bob, on sandbox-admin and self-check; Carol approves both). ",
		trailList(a.Trails, trailExpire, trailRevoke), a.Trails[kindDeny]+a.Trails[kindCancel], a.Inflight, trailList(a.Trails, kindDeny, kindCancel))
	w("That took %.0f s. ", a.PopulateSeconds)
	if len(a.Retried) > 0 {
		w("%d of them failed once and were run again with a new request (first failure: `%s`). ", len(a.Retried), a.Retried[0])
	}
	if len(a.NotWritten) > 0 {
		w("%d failed twice and are missing (first: `%s`). ", len(a.NotWritten), a.NotWritten[0])
	}
	if len(a.Trouble) > 0 {
		names := make([]string, 0, len(a.Trouble))
		for k := range a.Trouble {
			names = append(names, k)
		}
		sort.Strings(names)
		var parts []string
		for _, k := range names {
			parts = append(parts, k+": "+a.Trouble[k])
		}
		w("Function errors during this step, as the local runner counted them: %s. ", strings.Join(parts, "; "))
	}
	w("The table then held %d requests (%s) and %d audit events (%s). ", a.Requests, statusList(a.Statuses), a.EventItems, typeList(a.EventsByType))
	w("**The table held %d items** while searched: the events, and the requests, approvals and links of these lifecycles, the policy, leases and the requests the gateway step keeps.\n\n", a.TableItems)

	w("### 7a. Search latency by filter\n\n")
	w("`GET /v1/audit` with one filter over the default period (the last 30 days) and a page of %d events, %d times per filter, one search at a time, the filters taking turns so that a disturbance hits all of them alike. ", a.Page, a.Searches[0].Latency.N)
	w("*Emulator* is the time at the edge covered by each search's DynamoDB calls; *rest* is everything else (gateway and SigV4 check, local Lambda runner, the api function, SDK). ")
	w("*Query calls*, *entries read* (`scanned`, before filters) and the index come from the responses and are means per search.")
	if a.Budgeted {
		w(" **Fewer than 200 searches per filter:** the step stopped early to keep the whole run within its time budget (`-budget`), so p99 here is close to the worst sample.")
	}
	w("\n\n")
	w("| filter | query | index | n | median | p99 | emulator median | rest median | Query calls | entries read | events returned |\n")
	w("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, s := range a.Searches {
		w("| %s | `%s` | %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", s.Filter, s.Query, s.Index, s.Latency.N, d(s.Latency.Median), d(s.Latency.P99),
			d(s.Emulator.Median), d(s.Rest.Median), trimFloat(s.Queries), trimFloat(s.Scanned), trimFloat(s.Events))
	}
	w("\n")
	perEntry := 0.0
	if a.MotoEmptyQuery.N > 0 && a.MotoPageQuery.N > 0 {
		perEntry = (a.MotoPageQuery.Median - a.MotoEmptyQuery.Median) / 51
	}
	w("**What is emulator time.** moto answers a Query on a global secondary index by walking every item of the table (all %d here), keeping those with the partition key, sorting them, and then building the response entry by entry. ", a.TableItems)
	if perEntry > 0 {
		w("Timed directly on moto in this step (%d each): a Query of a partition that holds nothing took %s median (handling the request and the walk), one returning 51 entries %s, so moto spends about %s per entry it returns, on top of that. ",
			a.MotoPageQuery.N, d(a.MotoEmptyQuery.Median), d(a.MotoPageQuery.Median), d(perEntry))
	}
	w("A search's emulator time here thus grows with the table (one walk per Query call) and with the entries read; DynamoDB reads only the partition's entries from the index, and its work grows with *entries read* alone (billed by their size, in 4 KB read units). ")
	w("The local cloud also serializes DynamoDB calls: the %s searches read 8 sharded partitions, which the store queries at once; here they run one after another, on DynamoDB in parallel. ", shardedFilters(a.Searches))
	w("*Rest* is the part that carries over best; it includes the gateway's SigV4 check and the local runner's hop, which API Gateway and Lambda replace with their own.\n\n")
	round := 0.0
	for _, s := range a.Searches {
		round += s.Latency.Median
	}
	if perEntry > 0 && a.Page < 50 {
		w("**Why a page of %d.** The API, the CLI and the auditor page ask for 50 events by default. A round of the six searches took about %s here (the sum of their medians); at about %s of moto per entry returned, a page of 50 costs about %s more emulator time for each partition that holds that many entries, and the every-event search reads 8 of them (about %s more per search). ",
			a.Page, d(round), d(perEntry), d(perEntry*float64(50-a.Page)), d(8*perEntry*float64(50-a.Page)))
		w("The page size changes what moto does per entry, not the store's plan: the index, the number of Query calls and the read amplification below are the same at 50.\n\n")
	}
	if a.Budgeted {
		w("**Why n = %d, not %d.** The other figures took most of the run: the searches, last in this step, ran for %.0f s before the run's time budget (`-budget %s`, kept under the Makefile's 14-minute `go test -timeout` with room for the cold starts and the in-process benchmarks that follow), so they stopped after %d of the %d rounds aimed for. ",
			a.Searches[0].Latency.N, a.Target, a.SearchSeconds, a.Budget, a.Searches[0].Latency.N, a.Target)
		w("%d rounds take about %s, so they need the Makefile's `-timeout` and `-budget` raised by about %.0f minutes.\n\n",
			a.Target, d(round*float64(a.Target)), math.Ceil(round*float64(a.Target-a.Searches[0].Latency.N)/60000))
	}
	if notes := searchNotes(a.Searches, a.Page); len(notes) > 0 {
		for _, n := range notes {
			w("- %s\n", n)
		}
		w("\n")
	}

	if f := a.Fresh; f != nil {
		w("### 7b. Freshness: approve → found by a search\n\n")
		w("Measured during the lifecycle step (§1–3), on every third lifecycle (%d): as soon as `POST /d/{token}` answered 200, the benchmark searched `%s` as the auditor until the page held that request's `approved` event, 20 ms between searches. ", f.Of, f.Query)
		w("The figure is approve 200 → the end of the first search that returned it. It ran while the other lifecycles did (%d at a time) and while the grant just approved was being applied, on that step's small table (%s); ", r.lifecycleInflight(), r.tableDuring("lifecycle"))
		w("each search is one Query of the requester's partition from the request's creation on (a few entries). The grant of the same lifecycle (figure 2b) may wait a few ms behind it in moto.\n\n")
		w(summaryHeader)
		b.WriteString(row("**7b. approve 200 → approved event returned**", f.Found, "the time an auditor waits for a new event"))
		b.WriteString(row("  the first search's latency", f.FirstPoll, ""))
		w("| searches needed | %d | %s | %s | at most %s, mean %s |\n", f.Polls.N, trimFloat(f.Polls.Median), trimFloat(f.Polls.P99), trimFloat(f.Polls.Max), trimFloat(f.Polls.Mean))
		w("\n")
		if len(f.Failed) > 0 {
			w("%d searches failed; first: `%s`.\n\n", len(f.Failed), f.Failed[0])
		}
		if f.Polls.Max <= 1 {
			w("The tail is the search itself waiting in moto behind the lifecycles' transactions (the first search's latency is the whole figure), not the index lagging. ")
		}
		w("The event is written in the same transaction as the decision, before the 200, and moto updates its indexes as it writes, so here ")
		if f.Polls.Max <= 1 {
			w("the first search always found it: the lag is one search. ")
		} else {
			w("the first search found it almost always (at most %s searches were needed). ", trimFloat(f.Polls.Max))
		}
		w("On DynamoDB, reads from a global secondary index are eventually consistent ([read consistency](%s)) and writes typically reach the index within a second ([AWS re:Post](%s)); ", citeDDBRead, citeGSILag)
		w("so on AWS expect up to about a second more before a search can return a new event.\n\n")
	}

	if ex := a.Export; ex != nil {
		w("### 7c. Export\n\n")
		w("`GET /v1/audit/export?format=csv` over the default period (every event of the last 30 days), following `Jit-Next-Cursor` to the last page; runs: %d, one after another. ", ex.Runs)
		w("Each export returned %d events (the table held %d) in %s, %d bytes of CSV.\n\n", ex.Events, ex.Expected, plural(ex.Pages, "page"), ex.Bytes)
		w("| exports | events | pages | total, median | total, p99 | per page, median | events/s | Query calls per export | emulator per export |\n")
		w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		w("| %d | %d | %d | %s | %s | %s | %.0f | %s | %s |\n\n", ex.Total.N, ex.Events, ex.Pages, d(ex.Total.Median), d(ex.Total.P99), d(ex.PerPage.Median), ex.EventsPerS, trimFloat(ex.EdgeQueries), d(ex.EmulatorMS))
		w("An export with no filter reads the every-event index (GSI3) one day at a time, each day in 8 shards queried at once, until a page has 1000 events; a page that runs out of events walks back through the remaining days of the period, up to 31 days (248 Query calls) per page, before it can say it is the last. ")
		w("Every event here is from today, so most of an export's Query calls are of empty day partitions: on DynamoDB each is a small round trip (8 at once per day, the days one after another); here each is a walk of moto's whole table.")
		if ex.Errors > 0 {
			w(" %d exports failed; first: `%s`.", ex.Errors, ex.FirstError)
		}
		w("\n\n")
	}
	r.auditFindings(b)
	w("### 7d. CSV writing in process\n\n")
	if c := a.CSV; c != nil {
		w("`BenchmarkAuditWriteCSV`: `audit.WriteCSV` of %d events with the header row (%s), into memory: %s per call, %.0f events/s, %d allocations and %d bytes allocated per call, %d bytes of CSV. ",
			c.Events, c.Source, d(float64(c.NsPerOp)/1e6), c.EventsPerS, c.AllocsPerOp, c.BytesPerOp, c.OutputBytes)
		if ex := a.Export; ex != nil && ex.PerPage.Median > 0 {
			w("An export page of up to 1000 events takes %s through the gateway here, so writing its CSV is a small part of it.", d(ex.PerPage.Median))
		}
		w("\n\n")
	} else {
		w("Not measured (run with `-bench BenchmarkAuditWriteCSV`).\n\n")
	}
}

// auditFindings are what figure 7 says about the store's search plans,
// as proposals (nothing outside the benchmarks was changed).
func (r *Results) auditFindings(b *strings.Builder) {
	a := r.Audit
	var notes []string
	for _, s := range a.Searches {
		if s.Filter == "none" && s.Events > 0 && s.Scanned > 2*s.Events {
			notes = append(notes, fmt.Sprintf("**Sharded searches read up to 8 pages to return one.** The every-event search read %s entries to return %s (and the action and status searches ask each of their 8 shards for a whole page too): each shard is queried with `Limit = page + 1` and the merge drops the rest. On DynamoDB that is up to 8 times the read units a page needs. *Fix:* ask each shard for a share of the page (page/8 plus a margin), merge, and read further only from shards whose next entry could still be newer than the page's last; the cursor then keeps a position per shard.",
				trimFloat(s.Scanned), trimFloat(s.Events)))
		}
	}
	if ex := a.Export; ex != nil && ex.EdgeQueries >= 100 {
		notes = append(notes, fmt.Sprintf("**The last page of an every-event search visits every remaining day.** Each export here made %s Query calls for %d events, almost all of them of empty day partitions (31 days × 8 shards for the last page). On DynamoDB each is a round trip, and the days are read one after another. *Fix:* bucket the every-event index by month as the others are (sharded), or keep a small item per day that has events and visit only those.",
			trimFloat(ex.EdgeQueries), ex.Events))
	}
	for _, s := range a.Searches {
		if s.Queries > 8 {
			notes = append(notes, fmt.Sprintf("**A sparse type or status reads the previous month as well.** The %s search (`%s`) made %s Query calls: fewer than a page matched this month, and the default 30-day period reaches into last month. That is by design (the period is what was asked), and costs 8 round trips per month reached.",
				s.Filter, s.Query, trimFloat(s.Queries)))
		}
	}
	if len(notes) == 0 {
		return
	}
	fmt.Fprintf(b, "**What carries over to AWS** (the store's plans, not moto's costs; proposals only):\n\n")
	for _, n := range notes {
		fmt.Fprintf(b, "- %s\n", n)
	}
	b.WriteString("\n")
}

func (r *Results) lifecycleInflight() int {
	if r.Lifecycle != nil {
		return r.Lifecycle.Inflight
	}
	return *inflight
}

// tableDuring describes the table's size while a step ran.
func (r *Results) tableDuring(step string) string {
	for _, t := range r.Tables {
		if t.Before == step && t.During.N > 0 {
			return fmt.Sprintf("%.0f items median, %.0f at most", t.During.Median, t.During.Max)
		}
	}
	return "size not recorded"
}

func trailList(m map[string]int, kinds ...string) string {
	var out []string
	for _, k := range kinds {
		out = append(out, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return strings.Join(out, ", ")
}

// typeList lists event types, most frequent first.
func typeList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var out []string
	for _, k := range keys {
		out = append(out, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(out, ", ")
}

// shardedFilters names the filters whose searches read more than one
// partition per page.
func shardedFilters(ss []*AuditSearch) string {
	var out []string
	for _, s := range ss {
		if s.Queries >= 2 {
			out = append(out, s.Filter)
		}
	}
	if len(out) == 0 {
		return "sharded"
	}
	return strings.Join(out, ", ")
}

// searchNotes point out what the numbers show about each plan.
func searchNotes(ss []*AuditSearch, page int) []string {
	var notes []string
	for _, s := range ss {
		switch {
		case s.Queries > 8:
			notes = append(notes, fmt.Sprintf("*%s* took %s Query calls for %s events (%s): fewer than a page matched this month, so the search went on through the shards of the previous month too (the default period spans two months).",
				s.Filter, trimFloat(s.Queries), trimFloat(s.Events), s.Index))
		case s.Queries >= 2 && s.Events > 0 && s.Scanned >= 2*s.Events:
			notes = append(notes, fmt.Sprintf("*%s* read %s entries in %s Query calls to return %s events (%s): each of the 8 shards is asked for a whole page plus one (%d entries), the results are merged and the surplus dropped, so a page reads up to 8 pages' worth of entries.",
				s.Filter, trimFloat(s.Scanned), trimFloat(s.Queries), trimFloat(s.Events), s.Index, page+1))
		case s.Events > 0 && s.Scanned > 2*s.Events:
			notes = append(notes, fmt.Sprintf("*%s* read %s entries for %s events: the filter is applied after the key (%s), so the search reads past entries it then drops.",
				s.Filter, trimFloat(s.Scanned), trimFloat(s.Events), s.Index))
		}
	}
	return notes
}
