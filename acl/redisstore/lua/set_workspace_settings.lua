-- A: id, settings JSON, "1" when agent forwarding is on, "1" when ssh -R
-- binds any address. Emits workspace_settings_changed when the new
-- settings take away what the old ones allowed (WorkspaceSettings.Narrows).
local raw = redis.call('GET', k('workspace', A[1]))
if not raw then return notfound('workspace', A[1]) end
local w = cjson.decode(raw)
local old = w.settings
local narrows = false
if type(old) == 'table' then
  narrows = (old.agent_forwarding == true and A[3] ~= '1') or (old.remote_forward_bind == 'any' and A[4] ~= '1')
end
w.settings, w.updated_at = cjson.decode(A[2]), NOW
redis.call('SET', k('workspace', A[1]), cjson.encode(w))
if narrows then
  emit({kind = 'workspace_settings_changed', workspace = wsref(A[1]), workspace_uid = ws_uid(A[1])})
end
return done()
