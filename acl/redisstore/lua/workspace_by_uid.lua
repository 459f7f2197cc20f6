-- A: uid. One script, so that a rename between reading the index and the
-- record cannot make a live workspace look missing.
local id = redis.call('GET', k('workspace-uid', A[1]))
if not id then return notfound('workspace', A[1]) end
local raw = redis.call('GET', k('workspace', id))
if not raw then return notfound('workspace', A[1]) end
return done(raw)
