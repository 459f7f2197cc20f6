-- A: name, user JSON, then fingerprint, key JSON pairs.
local name = A[1]
if exists('user', name) then return conflict('user', name) end
for i = 3, #A, 2 do
  if exists('key', A[i]) then return conflict('key', A[i], 'fingerprint is already registered') end
end
redis.call('SET', k('user', name), A[2])
redis.call('SADD', k('users'), name)
for i = 3, #A, 2 do
  redis.call('SET', k('key', A[i]), name)
  redis.call('HSET', k('user', name, 'keys'), A[i], A[i + 1])
end
return done()
