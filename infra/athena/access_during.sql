-- access_during: who held access to a resource during a period.
--
-- Parameters (Athena ExecutionParameters, in this order; each is an SQL
-- literal, so strings are quoted, e.g.
-- "'sandbox-admin'" "'2026-01-01T00:00:00.000000Z'" "'2026-02-01T00:00:00.000000Z'"):
--   1. resource: the policy's resource name
--   2. period start: UTC, 2006-01-02T15:04:05.000000Z (a prefix such as '2026-01-01' also works)
--   3. period end: same format
--
-- A request is listed when it was granted before the period end and its
-- access ended (ended_at, or expires_at while it has not ended) after the
-- period start. Times are fixed-width UTC strings that sort in time order,
-- so they are compared as strings (the same SQL runs on Athena and DuckDB).
SELECT
  item.id.s AS request_id,
  item.requester.s AS requester,
  item.granted_at.s AS granted_at,
  COALESCE(item.ended_at.s, item.expires_at.s) AS access_ended_at,
  item.status.s AS status
FROM access_items
WHERE item.kind.s = 'request'
  AND item.resource.s = ?
  AND item.granted_at.s IS NOT NULL
  AND COALESCE(item.ended_at.s, item.expires_at.s) > ?
  AND item.granted_at.s < ?
ORDER BY granted_at, request_id
