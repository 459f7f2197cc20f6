-- A: name.
local raw = redis.call('GET', k('group', A[1]))
if not raw then return notfound('group', A[1]) end
return done(raw, redis.call('SMEMBERS', k('group', A[1], 'members')))
