-- A: user, token id, token hash, token JSON.
if not exists('user', A[1]) then return notfound('user', A[1]) end
if redis.call('HEXISTS', k('user', A[1], 'tokens'), A[2]) == 1 then return conflict('token', A[2]) end
if exists('token', A[3]) then return conflict('token', A[2], 'token hash is already in use') end
redis.call('SET', k('token', A[3]), A[4])
redis.call('HSET', k('user', A[1], 'tokens'), A[2], A[3])
return done()
