-- Every agent key record whose workspace still exists.
local out = {'ok'}
for _, uid in ipairs(redis.call('SMEMBERS', k('agent-keys'))) do
  local raw = redis.call('GET', k('agent-key', uid))
  if raw and exists('workspace-uid', uid) then out[#out + 1] = raw end
end
return out
