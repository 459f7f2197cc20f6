-- A: old owner, name, new owner, role kept by the old owner (0: none),
-- the old owner's grant JSON (when the role is not 0).
local old, new = A[1] .. '/' .. A[2], A[3] .. '/' .. A[2]
local keep = tonumber(A[4])
local raw = redis.call('GET', k('workspace', old))
if not raw then return notfound('workspace', old) end
local uraw = redis.call('GET', k('user', A[3]))
if not uraw then return notfound('user', A[3]) end
if cjson.decode(uraw).suspended then return invalid('owner', 'user "' .. A[3] .. '" is suspended') end
if exists('workspace', new) then
  return conflict('workspace', new, 'user ' .. A[3] .. ' already has a workspace named ' .. A[2] .. '; rename one first')
end
local w = cjson.decode(raw)
local fields = redis.call('HGETALL', k('workspace', old, 'grants'))
for i = 1, #fields, 2 do
  local g = del_grant(old, fields[i], fields[i + 1])
  -- A grant the new owner held is dropped: they own the workspace now.
  if fields[i] ~= 'user:' .. A[3] then
    g.workspace = wsref(new)
    put_grant(new, fields[i], g)
  end
end
if keep > 0 then put_grant(new, 'user:' .. A[1], cjson.decode(A[5])) end
w.owner, w.updated_at = A[3], NOW
local uid = move_workspace(old, new, w, A[1], A[3])
local ev = {kind = 'workspace_transferred', workspace = wsref(old), workspace_uid = uid, user = A[1], new_owner = A[3]}
if keep > 0 then ev.role = keep end
emit(ev)
return done()
