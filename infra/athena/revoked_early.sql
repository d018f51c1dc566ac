-- revoked_early: grants ended by a revoke before their window was over
-- (status revoked, ended_at before expires_at), with who asked for it.
--
-- Parameters: none.
SELECT
  item.id.s AS request_id,
  item.resource.s AS resource,
  item.requester.s AS requester,
  item.revoke_requested_by.s AS revoked_by,
  item.granted_at.s AS granted_at,
  item.expires_at.s AS expires_at,
  item.ended_at.s AS ended_at
FROM access_items
WHERE item.kind.s = 'request'
  AND item.status.s = 'revoked'
  AND item.ended_at.s < item.expires_at.s
ORDER BY ended_at, request_id
