-- A: name, fresh random bytes. Keeps the first bytes ever set under the
-- name (SET NX) and returns what is stored, so racing replicas agree.
redis.call('SET', k('secret', A[1]), A[2], 'NX')
return done(redis.call('GET', k('secret', A[1])))
