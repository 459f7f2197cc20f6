-- A: name, group JSON, then member names.
local name = A[1]
if exists('group', name) then return conflict('group', name) end
for i = 3, #A do
  if not exists('user', A[i]) then return notfound('user', A[i]) end
end
redis.call('SET', k('group', name), A[2])
redis.call('SADD', k('groups'), name)
for i = 3, #A do
  redis.call('SADD', k('group', name, 'members'), A[i])
  redis.call('SADD', k('user', A[i], 'groups'), name)
end
return done()
