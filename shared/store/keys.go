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
	attrTTL    = "ttl"

	attrStatus    = "status"
	attrUpdatedAt = "updated_at"
	attrDecidedBy = "decided_by"
	attrDecidedAt = "decided_at"
	attrGrantedAt = "granted_at"
	attrExpiresAt = "expires_at"
	attrEndedAt   = "ended_at"
	attrTaskToken = "task_token"
	attrLevel     = "level"
	attrUsedAt    = "used_at"
	attrUsedBy    = "used_outcome"
	attrRequestID = "request_id"
	attrVersion   = "version"
	attrApprovals = "approvals"
	attrHoldToken = "hold_token"
	attrRevokeBy  = "revoke_requested_by"
	attrEscalated = "escalated"
)

// Index names, as declared in template.yaml.
const (
	// gsi1: requests by requester; links by approver.
	gsi1 = "GSI1"
	// gsi2: requests by resource.
	gsi2 = "GSI2"
	// gsi3: requests by status; audit events by day. Both sharded.
	gsi3 = "GSI3"
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

func eventSK(at time.Time, typ string) string {
	return "EVENT#" + formatTime(at) + "#" + typ
}

const eventSKPrefix = "EVENT#"

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

func auditDayKey(at time.Time, id string) string {
	return fmt.Sprintf("AUDIT#%s#%d", at.UTC().Format("2006-01-02"), shardOf(id))
}

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
