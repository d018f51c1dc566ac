#!/usr/bin/env bash
# Smoke test: the README's curl walkthrough against a freshly started local
# cloud. A request goes pending -> active -> expired after the approver
# clicks the emailed link; a second request is denied.
set -euo pipefail
cd "$(dirname "$0")/.."

API_PORT=${SMOKE_API_PORT:-3100}
EDGE_PORT=${SMOKE_EDGE_PORT:-4600}
API=http://127.0.0.1:$API_PORT
LOG=$(mktemp)
KEY=AKIAJITLOCALALICE001
SECRET=local-alice-secret-not-for-aws-00000001

go build -o build/bin/localcloud ./cmd/localcloud
build/bin/localcloud -api-port "$API_PORT" -edge-port "$EDGE_PORT" \
  -policy test/e2e/testdata/policies.yaml >"$LOG" 2>&1 &
PID=$!
cleanup() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -f "$LOG"; }
trap cleanup EXIT

for _ in $(seq 1 120); do
  grep -q "local cloud ready" "$LOG" && break
  kill -0 "$PID" 2>/dev/null || { cat "$LOG"; echo "smoke: local cloud exited"; exit 1; }
  sleep 0.5
done
grep -q "local cloud ready" "$LOG" || { cat "$LOG"; echo "smoke: local cloud not ready"; exit 1; }

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
signed() { curl -sf --aws-sigv4 "aws:amz:us-east-1:execute-api" --user "$KEY:$SECRET" "$@"; }
fail() { echo "smoke: FAIL: $*"; tail -50 "$LOG"; exit 1; }
status_of() { signed "$API/v1/requests/$1" | json 'd["status"]'; }
wait_status() {
  for _ in $(seq 1 "$3"); do
    [ "$(status_of "$1")" = "$2" ] && return 0
    sleep 0.5
  done
  fail "request $1 is $(status_of "$1"), expected $2"
}
link_for() {
  for _ in $(seq 1 60); do
    l=$(curl -sf "$API/_local/inbox.json" | json "next((m['links'][0].split('?')[0] for m in d if '$1' in m['body']), '')")
    [ -n "$l" ] && { echo "$l"; return 0; }
    sleep 0.5
  done
  fail "no approval email for $1"
}

passed=0
# 1. Request, approve from the emailed link, watch it expire.
ID=$(signed -H 'Content-Type: application/json' \
  -d '{"resource":"sandbox-admin","duration":"5s","reason":"smoke test approve"}' \
  "$API/v1/requests" | json 'd["id"]')
[ "$(status_of "$ID")" = pending ] || fail "new request not pending"
LINK=$(link_for "$ID")
grep -q "smoke test approve" <<<"$(curl -sf "$LINK")" || fail "decision page lacks the reason"
[ "$(status_of "$ID")" = pending ] || fail "GET of the link changed the request"
grep -q "You approved" <<<"$(curl -sf -X POST -d decision=approve "$LINK")" || fail "approve"
wait_status "$ID" active 40
echo "smoke: $ID active"
wait_status "$ID" expired 60
echo "smoke: $ID expired"
passed=$((passed + 1))

# 2. Request and deny.
ID2=$(signed -H 'Content-Type: application/json' \
  -d '{"resource":"sandbox-admin","duration":"10m","reason":"smoke test deny"}' \
  "$API/v1/requests" | json 'd["id"]')
LINK2=$(link_for "$ID2")
grep -q "You denied" <<<"$(curl -sf -X POST -d decision=deny "$LINK2")" || fail "deny"
wait_status "$ID2" denied 10
echo "smoke: $ID2 denied"
passed=$((passed + 1))

# 3. Unsigned and wrongly signed calls are refused.
code=$(curl -s -o /dev/null -w '%{http_code}' "$API/v1/requests")
[ "$code" = 403 ] || fail "unsigned call got $code"
code=$(curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:execute-api" --user "$KEY:wrong" "$API/v1/requests")
[ "$code" = 403 ] || fail "wrongly signed call got $code"
passed=$((passed + 1))

echo "smoke: $passed passed, 0 failed"
