-- A: id, state, event kind to emit or "".
local raw = redis.call('GET', k('workspace', A[1]))
if not raw then return notfound('workspace', A[1]) end
local w = cjson.decode(raw)
w.state, w.updated_at = A[2], NOW
redis.call('SET', k('workspace', A[1]), cjson.encode(w))
if A[3] ~= '' then emit({kind = A[3], workspace = wsref(A[1]), workspace_uid = ws_uid(A[1])}) end
return done()
