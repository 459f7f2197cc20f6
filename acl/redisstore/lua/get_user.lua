-- A: name, or "" and a key fingerprint.
local name = A[1]
if A[2] ~= '' then
  name = redis.call('GET', k('key', A[2]))
  if not name then return notfound('key', A[2]) end
end
local raw = redis.call('GET', k('user', name))
if not raw then return notfound('user', name) end
return done(raw, redis.call('HVALS', k('user', name, 'keys')), redis.call('SMEMBERS', k('user', name, 'groups')))
