-- A: name, JSON field, "1" or "0", event kind to emit or "".
local raw = redis.call('GET', k('user', A[1]))
if not raw then return notfound('user', A[1]) end
local u = cjson.decode(raw)
u[A[2]] = (A[3] == '1')
redis.call('SET', k('user', A[1]), cjson.encode(u))
if A[4] ~= '' then emit({kind = A[4], user = A[1]}) end
return done()
