-- A: name.
local name = A[1]
if not exists('group', name) then return notfound('group', name) end
for _, u in ipairs(redis.call('SMEMBERS', k('group', name, 'members'))) do
  redis.call('SREM', k('user', u, 'groups'), name)
end
drop_subject_grants('group:' .. name)
redis.call('DEL', k('group', name), k('group', name, 'members'))
redis.call('SREM', k('groups'), name)
emit({kind = 'group_deleted', group = name})
return done()
