-- A: agent token hash, name to report when not found, public key.
-- Consumes the token and pins the key in one script (see acl.AgentKeyStore).
local hash, short, key = A[1], A[2], A[3]
local id = redis.call('GET', k('agent-token', hash))
if not id then return notfound('agent token', short) end
local raw = redis.call('GET', k('workspace', id))
if not raw then return notfound('agent token', short) end
local w = cjson.decode(raw)
redis.call('DEL', k('agent-token', hash))
w.agent_token_hash = nil
w.updated_at = NOW
raw = cjson.encode(w)
redis.call('SET', k('workspace', id), raw)
if type(w.uid) == 'string' and w.uid ~= '' then
  redis.call('SET', k('agent-key', w.uid), cjson.encode({workspace_uid = w.uid, public_key = key, pinned_at = NOW}))
  redis.call('SADD', k('agent-keys'), w.uid)
end
return done(raw)
