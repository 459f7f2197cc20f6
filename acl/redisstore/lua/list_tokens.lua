-- A: user.
if not exists('user', A[1]) then return notfound('user', A[1]) end
local out = {'ok'}
for _, hash in ipairs(redis.call('HVALS', k('user', A[1], 'tokens'))) do
  local raw = redis.call('GET', k('token', hash))
  if raw then out[#out + 1] = raw end
end
return out
