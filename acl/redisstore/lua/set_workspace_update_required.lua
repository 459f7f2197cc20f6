-- A: id, "1" to require an update, "" to clear it.
local raw = redis.call('GET', k('workspace', A[1]))
if not raw then return notfound('workspace', A[1]) end
local w = cjson.decode(raw)
if A[2] == '1' then w.update_required = true else w.update_required = nil end
w.updated_at = NOW
redis.call('SET', k('workspace', A[1]), cjson.encode(w))
return done()
