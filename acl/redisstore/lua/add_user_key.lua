-- A: user, fingerprint, key JSON.
if not exists('user', A[1]) then return notfound('user', A[1]) end
local holder = redis.call('GET', k('key', A[2]))
if holder == A[1] then return conflict('key', A[2], 'fingerprint is already registered') end
if holder then return key_in_use(A[2]) end
redis.call('SET', k('key', A[2]), A[1])
redis.call('HSET', k('user', A[1], 'keys'), A[2], A[3])
return done()
