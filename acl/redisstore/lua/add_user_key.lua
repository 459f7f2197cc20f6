-- A: user, fingerprint, key JSON.
if not exists('user', A[1]) then return notfound('user', A[1]) end
if exists('key', A[2]) then return conflict('key', A[2], 'fingerprint is already registered') end
redis.call('SET', k('key', A[2]), A[1])
redis.call('HSET', k('user', A[1], 'keys'), A[2], A[3])
return done()
