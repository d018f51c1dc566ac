-- break_glass: every break-glass request (approved at creation by the
-- requester's own say-so, announced to the approvers), newest last.
--
-- Parameters: none.
SELECT
  item.id.s AS request_id,
  item.resource.s AS resource,
  item.requester.s AS requester,
  item.reason.s AS reason,
  item.ticket.s AS ticket,
  item.created_at.s AS created_at,
  item.granted_at.s AS granted_at,
  COALESCE(item.ended_at.s, item.expires_at.s) AS access_ended_at,
  item.status.s AS status
FROM access_items
WHERE item.kind.s = 'request'
  AND item.break_glass.bool = true
ORDER BY created_at, request_id
