local out = {'ok'}
for _, name in ipairs(redis.call('SMEMBERS', k('groups'))) do
  local raw = redis.call('GET', k('group', name))
  if raw then out[#out + 1] = {raw, redis.call('SMEMBERS', k('group', name, 'members'))} end
end
return out
