-- A: workspace id, then per change: kind ("user" or "group"), subject,
-- role (0 removes), grant JSON (created_at is the write's time).
local id = A[1]
if not exists('workspace', id) then return notfound('workspace', id) end
local uid = ws_uid(id)
for i = 2, #A, 4 do
  local kind, subject, role = A[i], A[i + 1], tonumber(A[i + 2])
  if kind == 'user' then
    local raw = redis.call('GET', k('user', subject))
    if not raw then return notfound('user', subject) end
    if role > 0 and cjson.decode(raw).suspended then
      return invalid('subject', 'user "' .. subject .. '" is suspended')
    end
  elseif not exists('group', subject) then
    return notfound('group', subject)
  end
end
for i = 2, #A, 4 do
  local field, role = A[i] .. ':' .. A[i + 1], tonumber(A[i + 2])
  local raw = redis.call('HGET', k('workspace', id, 'grants'), field)
  local old, live = nil, false
  if raw then
    old = del_grant(id, field, raw)
    live = (not old.expiry_key) or old.expiry_key > NOWNS
  end
  if role == 0 then
    if raw then emit(grant_event('grant_removed', id, uid, field)) end
  else
    local g = cjson.decode(A[i + 3])
    if live then
      g.created_at = old.created_at
      if role < old.role then emit(grant_event('grant_lowered', id, uid, field, role)) end
    end
    put_grant(id, field, g)
  end
end
return done()
