package audit

import (
	"reflect"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/policy"
)

const (
	aliceCLI = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Dev_1/alice@example.com"
	aliceCI  = "arn:aws:iam::123456789012:user/alice-ci"
	bob      = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Dev_1/bob@example.com"
	deploy   = "arn:aws:sts::123456789012:assumed-role/Deploy/run-41"
)

const adoptionPolicy = `
identities:
  trusted_roles: ["arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_*"]
  people:
    - {email: alice@example.com, principals: ["arn:aws:iam::123456789012:user/alice-ci"]}
resources:
  - name: db
    target: {role_arn: "arn:aws:iam::123456789012:role/db"}
    requesters: [alice@example.com, Bob@example.com, carol@example.com, "arn:aws:iam::123456789012:user/alice-ci", "*@contractor.example.com"]
    max_duration: 1h
    approval: {levels: [{approvers: [{email: dave@example.com}]}]}
  - name: web
    target: {role_arn: "arn:aws:iam::123456789012:role/web"}
    requesters: ["arn:aws:sts::123456789012:assumed-role/*"]
    max_duration: 1h
    approval: {levels: [{approvers: [{email: dave@example.com}]}]}
`

func adoptionPopulation(t *testing.T, first map[string]time.Time) Population {
	t.Helper()
	doc, err := policy.Parse([]byte(adoptionPolicy))
	if err != nil {
		t.Fatal(err)
	}
	return PopulationOf(doc, func(arn string) time.Time { return first[arn] })
}

func TestNamedPeople(t *testing.T) {
	pop := adoptionPopulation(t, nil)
	// alice's CI user is alice; the pattern names nobody; web names nobody.
	if want := []string{"alice@example.com", "bob@example.com", "carol@example.com"}; !reflect.DeepEqual(pop.Eligible["db"], want) {
		t.Errorf("db names %v, want %v", pop.Eligible["db"], want)
	}
	if _, ok := pop.Eligible["web"]; ok {
		t.Errorf("web names %v", pop.Eligible["web"])
	}
}

func TestAdoption(t *testing.T) {
	day1 := time.Date(2026, time.November, 30, 9, 0, 0, 0, time.UTC) // a Monday: ISO week 49
	day2 := day1.Add(24 * time.Hour)
	lastWeek := day1.Add(-3 * 24 * time.Hour) // week 48
	reqs := []*access.Request{
		{Resource: "db", Requester: aliceCLI, CreatedAt: day1, Source: access.SourceCLI},
		{Resource: "db", Requester: aliceCI, CreatedAt: day2, Source: access.SourceAPI},
		{Resource: "db", Requester: aliceCLI, CreatedAt: day2.Add(time.Hour), Source: access.SourceCLI, BreakGlass: true},
		{Resource: "web", Requester: bob, CreatedAt: day2, Source: access.SourceWeb},
		{Resource: "web", Requester: deploy, CreatedAt: lastWeek},
	}
	// bob asked once long ago; alice's CI user first asked in the period.
	pop := adoptionPopulation(t, map[string]time.Time{bob: day1.Add(-90 * 24 * time.Hour), aliceCI: day2, aliceCLI: day1})
	b := Summarize(reqs, pop)

	a := b.Total.Adoption
	// alice (two principals, one person), bob, and the unidentified deploy session.
	if a.Requesters != 3 || a.NewRequesters != 2 || a.ReturningRequesters != 1 {
		t.Errorf("requesters %d, new %d, returning %d; want 3, 2, 1", a.Requesters, a.NewRequesters, a.ReturningRequesters)
	}
	// 5 requests by 3 requesters: alice 3, bob 1, deploy 1.
	if a.RequestsPerRequester != (PerRequester{Mean: 1.67, Median: 1, Max: 3}) {
		t.Errorf("per requester = %+v", a.RequestsPerRequester)
	}
	if want := map[string]int{"cli": 2, "api": 1, "web": 1, "unknown": 1}; !reflect.DeepEqual(a.BySource, want) {
		t.Errorf("by source = %v", a.BySource)
	}
	if a.SourceShare["cli"] != 0.4 || a.SourceShare["unknown"] != 0.2 || a.BreakGlassShare != 0.2 {
		t.Errorf("shares = %v, break-glass %v", a.SourceShare, a.BreakGlassShare)
	}
	// The policy names alice, bob and carol (db); alice and bob asked.
	if a.Eligible == nil || *a.Eligible != (Eligible{People: 3, Used: 2, Share: 0.667}) {
		t.Errorf("eligible = %+v", a.Eligible)
	}
	// For db alone: only alice asked for it.
	if e := b.ByResource["db"].Adoption.Eligible; e == nil || *e != (Eligible{People: 3, Used: 1, Share: 0.333}) {
		t.Errorf("db eligible = %+v", e)
	}
	if e := b.ByResource["web"].Adoption.Eligible; e != nil {
		t.Errorf("web names nobody, eligible = %+v", e)
	}
	// Per day: alice on day 1 is new; on day 2 she had asked the day before.
	if d := b.ByDay["2026-11-30"].Adoption; d.Requesters != 1 || d.NewRequesters != 1 {
		t.Errorf("day 1 = %+v", d)
	}
	if d := b.ByDay["2026-12-01"].Adoption; d.Requesters != 2 || d.NewRequesters != 0 || d.ReturningRequesters != 2 {
		t.Errorf("day 2 = %+v", d)
	}
	if len(b.ByWeek) != 2 || b.ByWeek["2026-W49"].Adoption.Requesters != 2 || b.ByWeek["2026-W48"].Adoption.Requesters != 1 {
		t.Errorf("by week = %+v", b.ByWeek)
	}
}

func TestAdoptionOfNothingAndOfOne(t *testing.T) {
	empty := Summarize(nil, Population{}).Total.Adoption
	if empty.Requesters != 0 || empty.RequestsPerRequester != (PerRequester{}) || len(empty.BySource) != 0 || empty.Eligible != nil {
		t.Errorf("empty = %+v", empty)
	}
	one := Summarize([]*access.Request{{Resource: "db", Requester: deploy, CreatedAt: now, Source: access.SourceAPI}}, Population{}).Total.Adoption
	if one.Requesters != 1 || one.NewRequesters != 1 || one.RequestsPerRequester != (PerRequester{Mean: 1, Median: 1, Max: 1}) ||
		one.SourceShare["api"] != 1 || one.BreakGlassShare != 0 {
		t.Errorf("one = %+v", one)
	}
}
