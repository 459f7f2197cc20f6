-- A: name, or "" and a key fingerprint.
local name = A[1]
if A[2] ~= '' then
  name = redis.call('GET', k('key', A[2]))
  if not name then return notfound('key', A[2]) end
end
local u = user_reply(name)
if not u then return notfound('user', name) end
return done(u[1], u[2], u[3])
