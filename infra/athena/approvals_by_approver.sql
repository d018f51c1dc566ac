-- approvals_by_approver: how many approvals each approver gave, and on which
-- requests, from the approvers' decision events: "approval" (counted at a
-- level that needs more), "level_approved" (completed a level) and
-- "approved" (completed the last level). Approvals made by the policy
-- (auto-approval) or by break-glass are not an approver's and are left out.
--
-- Parameters: none.
SELECT
  item.actor.s AS approver,
  COUNT(*) AS approvals,
  array_agg(item.request_id.s ORDER BY item.request_id.s) AS request_ids
FROM access_items
WHERE item.kind.s = 'event'
  AND item."type".s IN ('approval', 'level_approved', 'approved')
  AND item.actor.s NOT IN ('policy', 'break-glass')
GROUP BY item.actor.s
ORDER BY approver
