-- A: owner, id, workspace JSON, agent token hash or "", uid.
local owner, id, hash, uid = A[1], A[2], A[4], A[5]
if not exists('user', owner) then return notfound('user', owner) end
if exists('workspace', id) then return conflict('workspace', id) end
if exists('workspace-uid', uid) then return conflict('workspace', id, 'uid ' .. uid .. ' is already in use') end
if hash ~= '' and exists('agent-token', hash) then
  return conflict('workspace', id, 'agent token hash is already in use')
end
redis.call('SET', k('workspace', id), A[3])
redis.call('SET', k('workspace-uid', uid), id)
redis.call('SADD', k('workspaces'), id)
redis.call('SADD', k('user', owner, 'workspaces'), id)
if hash ~= '' then redis.call('SET', k('agent-token', hash), id) end
return done()
