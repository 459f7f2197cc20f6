-- A: user, token id.
if not exists('user', A[1]) then return notfound('user', A[1]) end
local hash = redis.call('HGET', k('user', A[1], 'tokens'), A[2])
if not hash then return notfound('token', A[2]) end
redis.call('DEL', k('token', hash))
redis.call('HDEL', k('user', A[1], 'tokens'), A[2])
emit({kind = 'token_revoked', user = A[1], token_id = A[2]})
return done()
