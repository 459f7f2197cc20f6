-- A: uid. The workspace must exist; "" when no key record.
local uid = A[1]
if not exists('workspace-uid', uid) then return notfound('workspace', uid) end
return done(redis.call('GET', k('agent-key', uid)) or '')
