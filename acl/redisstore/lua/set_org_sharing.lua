-- A: name, "1" to disable sharing or "0".
local raw = redis.call('GET', k('org', A[1]))
if not raw then return notfound('org', A[1]) end
local o = cjson.decode(raw)
o.sharing_disabled = (A[2] == '1')
redis.call('SET', k('org', A[1]), cjson.encode(o))
if A[2] == '1' then emit({kind = 'sharing_disabled', org = A[1]}) end
return done()
