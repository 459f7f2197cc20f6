-- A: "user" or "group", name. Returns workspace JSON, grant JSON pairs for
-- every grant naming the subject (and, for a user, any of their groups).
local kind, name = A[1], A[2]
if not exists(kind, name) then return notfound(kind, name) end
local out = {'ok'}
local function add(field)
  for _, id in ipairs(redis.call('SMEMBERS', P .. field .. ':grants')) do
    local w = redis.call('GET', k('workspace', id))
    local g = redis.call('HGET', k('workspace', id, 'grants'), field)
    if w and g then
      out[#out + 1] = w
      out[#out + 1] = g
    end
  end
end
add(kind .. ':' .. name)
if kind == 'user' then
  for _, g in ipairs(redis.call('SMEMBERS', k('user', name, 'groups'))) do add('group:' .. g) end
end
return out
