-- A: owner, old name, new name.
local old, new = A[1] .. '/' .. A[2], A[1] .. '/' .. A[3]
local raw = redis.call('GET', k('workspace', old))
if not raw then return notfound('workspace', old) end
if old == new then return done() end
if exists('workspace', new) then return conflict('workspace', new) end
local w = cjson.decode(raw)
local fields = redis.call('HGETALL', k('workspace', old, 'grants'))
for i = 1, #fields, 2 do
  local g = del_grant(old, fields[i], fields[i + 1])
  g.workspace = wsref(new)
  put_grant(new, fields[i], g)
end
w.name, w.updated_at = A[3], NOW
local uid = move_workspace(old, new, w, A[1], A[1])
emit({kind = 'workspace_renamed', workspace = wsref(old), workspace_uid = uid, new_name = A[3]})
return done()
