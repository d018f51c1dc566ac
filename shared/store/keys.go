package store

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"
)

// Attribute names. Every other file uses these constants, never literals.
const (
	attrPK     = "PK"
	attrSK     = "SK"
	attrGSI1PK = "GSI1PK"
	attrGSI1SK = "GSI1SK"
	attrGSI2PK = "GSI2PK"
	attrGSI2SK = "GSI2SK"
	attrGSI3PK = "GSI3PK"
	attrGSI3SK = "GSI3SK"
	attrGSI4PK = "GSI4PK"
	attrGSI4SK = "GSI4SK"
	attrGSI5PK = "GSI5PK"
	attrGSI5SK = "GSI5SK"
	attrGSI6PK = "GSI6PK"
	attrGSI6SK = "GSI6SK"
	attrGSI7PK = "GSI7PK"
	attrGSI7SK = "GSI7SK"
	attrTTL    = "ttl"

	attrStatus          = "status"
	attrUpdatedAt       = "updated_at"
	attrDecidedBy       = "decided_by"
	attrDecidedAt       = "decided_at"
	attrGrantedAt       = "granted_at"
	attrExpiresAt       = "expires_at"
	attrDurationSeconds = "duration_seconds"
	attrEndedAt         = "ended_at"
	attrTaskToken       = "task_token"
	attrLevel           = "level"
	attrUsedAt          = "used_at"
	attrOpenedAt        = "opened_at"
	attrUsedBy          = "used_outcome"
	attrRequestID       = "request_id"
	attrVersion         = "version"
	attrApprovals       = "approvals"
	attrHoldToken       = "hold_token"
	attrRevokeBy        = "revoke_requested_by"
	attrEscalated       = "escalated"
)

// Index names, as declared in template.yaml.
const (
	// gsi1: requests by requester; links by approver.
	gsi1 = "GSI1"
	// gsi2: requests by resource.
	gsi2 = "GSI2"
	// gsi3: requests by status; audit events by day. Both sharded.
	gsi3 = "GSI3"
	// gsi4..gsi7: audit events by requester, actor, resource and type
	// (each by month; types sharded).
	gsi4 = "GSI4"
	gsi5 = "GSI5"
	gsi6 = "GSI6"
	gsi7 = "GSI7"
)

// shards spreads status and day partitions so that one busy status or day
// never concentrates on a single partition key.
const shards = 8

// timeLayout sorts lexically in time order (fixed width, UTC).
const timeLayout = "2006-01-02T15:04:05.000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) { return time.Parse(timeLayout, s) }

const (
	skRequest = "REQUEST"
	skLink    = "LINK"
	skPolicy  = "POLICY"
)

func requestPK(id string) string { return "REQ#" + id }

// Events live in partitions of their own, apart from the request they
// record, so that IAM can deny updating or deleting them by partition key
// prefix (dynamodb:LeadingKeys "EVENT#*") while the request stays
// writable.
const eventPKPrefix = "EVENT#"

func eventPK(id string) string { return eventPKPrefix + id }

func eventSK(at time.Time, typ string) string { return formatTime(at) + "#" + typ }

// auditSK orders events in every audit index: by time, then request and
// type, which together make it unique.
func auditSK(at time.Time, id, typ string) string { return formatTime(at) + "#" + id + "#" + typ }

// Audit index partitions. People, actors and resources are bucketed by
// month: their events are few enough per month, and a search over a year
// is twelve queries. Types are bucketed by month too but sharded eight
// ways, because one type (notification_sent, say) can carry most of the
// traffic. The stream of all events is bucketed by day and sharded.
const (
	monthLayout = "2006-01"
	dayLayout   = "2006-01-02"
)

func auditRequesterKey(requester, bucket string) string {
	return "EVREQUESTER#" + requester + "#" + bucket
}

func auditActorKey(actor, bucket string) string { return "EVACTOR#" + actor + "#" + bucket }

func auditResourceKey(resource, bucket string) string { return "EVRESOURCE#" + resource + "#" + bucket }

func auditTypeKey(typ, bucket string, shard int) string {
	return fmt.Sprintf("EVTYPE#%s#%s#%d", typ, bucket, shard)
}

// approvalSK marks one approver's approval at one level, under the
// request's partition.
func approvalSK(level int, approver string) string {
	return fmt.Sprintf("APPROVAL#%d#%s", level, strings.ToLower(approver))
}

func linkPK(hash string) string { return "LINK#" + hash }

func requesterKey(principal string) string { return "REQUESTER#" + principal }

func resourceKey(name string) string { return "RESOURCE#" + name }

func approverKey(email string) string { return "APPROVER#" + strings.ToLower(email) }

func shardOf(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % shards)
}

func statusKey(status, id string) string {
	return fmt.Sprintf("STATUS#%s#%d", status, shardOf(id))
}

func auditDayKey(bucket string, shard int) string { return fmt.Sprintf("AUDIT#%s#%d", bucket, shard) }

// createdKey orders a request within its requester, resource and status
// partitions: by creation time, ties broken by id.
func createdKey(created time.Time, id string) string { return formatTime(created) + "#" + id }

// Policy versions live under their own partition each; the current version
// is a full copy of the latest, so reading it is one GetItem.
func policyPK(version int) string { return fmt.Sprintf("POLICY#%08d", version) }

const policyCurrentPK = "POLICY#CURRENT"

const skIdempotency = "IDEMPOTENCY"

const skLease = "LEASE"

// leasePK names a lease, e.g. LEASE#role/jit-sandbox-admin.
func leasePK(name string) string { return "LEASE#" + name }

// idempotencyPK scopes a key to its requester, so one caller's key never
// collides with another's.
func idempotencyPK(requester, key string) string { return "IDEM#" + requester + "#" + key }

// Auditor page sign-ins (single-use, minutes) and the sessions they open
// (hours), each under the hash of its token.
func signInPK(hash string) string  { return "SIGNIN#" + hash }
func sessionPK(hash string) string { return "SESSION#" + hash }

const (
	skSignIn  = "SIGNIN"
	skSession = "SESSION"
)
