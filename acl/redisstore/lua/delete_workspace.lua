-- A: owner, id.
local owner, id = A[1], A[2]
local raw = redis.call('GET', k('workspace', id))
if not raw then return notfound('workspace', id) end
local fields = redis.call('HGETALL', k('workspace', id, 'grants'))
for i = 1, #fields, 2 do del_grant(id, fields[i], fields[i + 1]) end
local w = cjson.decode(raw)
if w.agent_token_hash and w.agent_token_hash ~= '' then redis.call('DEL', k('agent-token', w.agent_token_hash)) end
local uid = ws_uid(id)
if uid then
  redis.call('DEL', k('workspace-uid', uid), k('agent-key', uid))
  redis.call('SREM', k('agent-keys'), uid)
end
redis.call('DEL', k('workspace', id), k('workspace', id, 'grants'))
redis.call('SREM', k('workspaces'), id)
redis.call('SREM', k('user', owner, 'workspaces'), id)
emit({kind = 'workspace_deleted', workspace = wsref(id), workspace_uid = uid})
return done()
