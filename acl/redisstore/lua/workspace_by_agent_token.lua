-- A: agent token hash, name to report when not found.
local id = redis.call('GET', k('agent-token', A[1]))
if not id then return notfound('agent token', A[2]) end
local raw = redis.call('GET', k('workspace', id))
if not raw then return notfound('agent token', A[2]) end
return done(raw)
