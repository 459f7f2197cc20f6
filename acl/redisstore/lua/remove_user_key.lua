-- A: user, fingerprint.
if not exists('user', A[1]) then return notfound('user', A[1]) end
if redis.call('HDEL', k('user', A[1], 'keys'), A[2]) == 0 then return notfound('key', A[2]) end
redis.call('DEL', k('key', A[2]))
emit({kind = 'key_removed', user = A[1], fingerprint = A[2]})
return done()
