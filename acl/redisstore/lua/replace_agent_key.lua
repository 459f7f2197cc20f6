-- A: uid, old key ("" for none), next key ("" revokes), then the exposed
-- users (sorted, distinct). Compare-and-swap.
local uid, old, nxt = A[1], A[2], A[3]
if not exists('workspace-uid', uid) then return notfound('workspace', uid) end
local raw = redis.call('GET', k('agent-key', uid))
local cur = ''
if raw then cur = cjson.decode(raw).public_key or '' end
if cur ~= old then return conflict('agent key', uid, 'the pinned key changed') end
local rec = {workspace_uid = uid}
if nxt == '' then
  rec.revoked = true
else
  rec.public_key = nxt
  rec.pinned_at = NOW
end
if #A > 3 then
  local exposed = {}
  for i = 4, #A do exposed[#exposed + 1] = A[i] end
  rec.exposed = exposed
end
redis.call('SET', k('agent-key', uid), cjson.encode(rec))
redis.call('SADD', k('agent-keys'), uid)
return done()
