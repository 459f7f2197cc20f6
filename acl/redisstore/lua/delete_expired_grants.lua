-- A: the expiry key just after now: grants with a smaller key are expired.
local n = 0
for _, m in ipairs(redis.call('ZRANGEBYLEX', k('grant-expiry'), '-', '(' .. A[1])) do
  local id, field = string.match(m, '^%d+|([^|]+)|(.+)$')
  local raw = redis.call('HGET', k('workspace', id, 'grants'), field)
  local g = raw and cjson.decode(raw)
  if g and g.expiry_key and expiry_member(g, id, field) == m then
    del_grant(id, field, raw)
    emit(grant_event('grant_expired', id, ws_uid(id), field))
    n = n + 1
  else
    redis.call('ZREM', k('grant-expiry'), m) -- stale index entry
  end
end
return done(n)
