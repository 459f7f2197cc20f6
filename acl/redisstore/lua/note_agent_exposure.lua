-- A: uid, user. Adds user to the sorted exposed list; writes only if new.
local uid, user = A[1], A[2]
if not exists('workspace-uid', uid) then return notfound('workspace', uid) end
local raw = redis.call('GET', k('agent-key', uid))
local rec = {workspace_uid = uid}
if raw then rec = cjson.decode(raw) end
local exposed = {}
if type(rec.exposed) == 'table' then exposed = rec.exposed end
for _, u in ipairs(exposed) do
  if u == user then return done() end
end
exposed[#exposed + 1] = user
table.sort(exposed)
rec.exposed = exposed
redis.call('SET', k('agent-key', uid), cjson.encode(rec))
redis.call('SADD', k('agent-keys'), uid)
return done()
