-- A: uid. One script, so that a rename between reading the index and the
-- record cannot make a live workspace look missing. The record must still
-- carry the uid: an index entry left behind (by a replica older than uids
-- deleting the workspace) must not lead to a workspace re-created since.
local id = redis.call('GET', k('workspace-uid', A[1]))
if not id then return notfound('workspace', A[1]) end
local raw = redis.call('GET', k('workspace', id))
if not raw or cjson.decode(raw).uid ~= A[1] then return notfound('workspace', A[1]) end
return done(raw)
