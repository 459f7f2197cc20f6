-- A: workspace id.
local id = A[1]
if not exists('workspace', id) then return notfound('workspace', id) end
local uid = ws_uid(id)
local fields = redis.call('HGETALL', k('workspace', id, 'grants'))
for i = 1, #fields, 2 do
  del_grant(id, fields[i], fields[i + 1])
  emit(grant_event('grant_removed', id, uid, fields[i]))
end
return done()
