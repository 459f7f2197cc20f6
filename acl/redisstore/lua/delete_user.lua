-- A: name.
local name = A[1]
if not exists('user', name) then return notfound('user', name) end
local owned = redis.call('SCARD', k('user', name, 'workspaces'))
if owned > 0 then
  return conflict('user', name, 'still owns ' .. owned .. ' workspace(s); delete them first')
end
for _, fp in ipairs(redis.call('HKEYS', k('user', name, 'keys'))) do redis.call('DEL', k('key', fp)) end
for _, hash in ipairs(redis.call('HVALS', k('user', name, 'tokens'))) do redis.call('DEL', k('token', hash)) end
for _, g in ipairs(redis.call('SMEMBERS', k('user', name, 'groups'))) do
  redis.call('SREM', k('group', g, 'members'), name)
end
drop_subject_grants('user:' .. name)
redis.call('DEL', k('user', name), k('user', name, 'keys'), k('user', name, 'tokens'),
  k('user', name, 'groups'), k('user', name, 'workspaces'))
redis.call('SREM', k('users'), name)
emit({kind = 'user_deleted', user = name})
return done()
