-- A: id, new agent token hash or "".
local id, hash = A[1], A[2]
local raw = redis.call('GET', k('workspace', id))
if not raw then return notfound('workspace', id) end
if hash ~= '' then
  local holder = redis.call('GET', k('agent-token', hash))
  if holder and holder ~= id then return conflict('workspace', id, 'agent token hash is already in use') end
end
local w = cjson.decode(raw)
if w.agent_token_hash and w.agent_token_hash ~= '' then redis.call('DEL', k('agent-token', w.agent_token_hash)) end
if hash ~= '' then
  redis.call('SET', k('agent-token', hash), id)
  w.agent_token_hash = hash
else
  w.agent_token_hash = nil
end
w.updated_at = NOW
redis.call('SET', k('workspace', id), cjson.encode(w))
-- A new token is a new enrolment: the old agent's key goes.
local uid = ws_uid(id)
if uid then
  redis.call('DEL', k('agent-key', uid))
  redis.call('SREM', k('agent-keys'), uid)
end
emit({kind = 'agent_token_rotated', workspace = wsref(id), workspace_uid = ws_uid(id)})
return done()
