-- A: user names; the users that exist, each as get_user returns one.
local out = {'ok'}
for _, name in ipairs(A) do
  local raw = redis.call('GET', k('user', name))
  if raw then
    out[#out + 1] = {raw, redis.call('HVALS', k('user', name, 'keys')), redis.call('SMEMBERS', k('user', name, 'groups'))}
  end
end
return out
