-- A: name, user JSON, then fingerprint, key JSON pairs.
local name = A[1]
if exists('user', name) then return conflict('user', name) end
for i = 3, #A, 2 do
  -- The user is new, so whoever holds it is someone else.
  if exists('key', A[i]) then return key_in_use(A[i]) end
end
redis.call('SET', k('user', name), A[2])
redis.call('SADD', k('users'), name)
for i = 3, #A, 2 do
  redis.call('SET', k('key', A[i]), name)
  redis.call('HSET', k('user', name, 'keys'), A[i], A[i + 1])
end
return done()
