-- revoke_failures: every revoke that failed after its retries (a
-- "revoke_failed" event: access was left in place), and whether the
-- reconciler removed it later (a "reconciled" event after the failure).
--
-- Parameters: none.
WITH failures AS (
  SELECT item.request_id.s AS request_id, item."at".s AS failed_at
  FROM access_items
  WHERE item.kind.s = 'event' AND item."type".s = 'revoke_failed'
),
reconciliations AS (
  SELECT item.request_id.s AS request_id, MIN(item."at".s) AS reconciled_at
  FROM access_items
  WHERE item.kind.s = 'event' AND item."type".s = 'reconciled'
  GROUP BY item.request_id.s
),
requests AS (
  SELECT item.id.s AS id, item.resource.s AS resource, item.requester.s AS requester, item.status.s AS status
  FROM access_items
  WHERE item.kind.s = 'request'
)
SELECT
  f.request_id,
  q.resource,
  q.requester,
  f.failed_at,
  c.reconciled_at IS NOT NULL AS reconciled,
  c.reconciled_at,
  q.status
FROM failures f
LEFT JOIN reconciliations c ON c.request_id = f.request_id AND c.reconciled_at > f.failed_at
LEFT JOIN requests q ON q.id = f.request_id
ORDER BY f.failed_at, f.request_id
