-- auto_approved: requests an auto_approve rule of the policy approved, with
-- the rule.
--
-- Parameters: none.
SELECT
  item.id.s AS request_id,
  item.resource.s AS resource,
  item.requester.s AS requester,
  item.auto_approved_by.s AS rule,
  CAST(item.duration_seconds.n AS bigint) AS duration_seconds,
  item.created_at.s AS created_at,
  item.status.s AS status
FROM access_items
WHERE item.kind.s = 'request'
  AND item.auto_approved_by.s IS NOT NULL
ORDER BY created_at, request_id
