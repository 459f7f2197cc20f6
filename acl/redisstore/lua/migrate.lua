-- A: fresh uids to hand out, at least one per workspace. Gives every
-- workspace without a uid (written before uids existed) the next fresh uid
-- not in use and indexes every uid. Returns how many uids it gave out and
-- how many workspaces it could not give one (it ran out: the caller calls
-- again). Idempotent: a second run finds nothing to do and writes nothing.
local ids = redis.call('SMEMBERS', k('workspaces'))
local records = {}
-- Check first: two workspaces sharing a uid is no state our writes make,
-- and guessing which one keeps it could hand one's tunnel to the other.
for _, id in ipairs(ids) do
  local raw = redis.call('GET', k('workspace', id))
  if raw then
    local w = cjson.decode(raw)
    if type(w.uid) ~= 'string' or w.uid == '' then
      w.uid = nil
    else
      local holder = redis.call('GET', k('workspace-uid', w.uid))
      if holder and holder ~= id and ws_uid(holder) == w.uid then
        return conflict('workspace', id, 'shares uid ' .. w.uid .. ' with ' .. holder)
      end
    end
    records[#records + 1] = {id = id, w = w}
  end
end
local next_fresh = 1
local function fresh()
  while next_fresh <= #A do
    local uid = A[next_fresh]
    next_fresh = next_fresh + 1
    if not exists('workspace-uid', uid) then return uid end
  end
  return nil
end
local given, missing = 0, 0
for _, r in ipairs(records) do
  if not r.w.uid then
    local uid = fresh()
    if uid then
      r.w.uid = uid
      redis.call('SET', k('workspace', r.id), cjson.encode(r.w))
      given = given + 1
    else
      missing = missing + 1
    end
  end
  -- Index it, replacing an entry left stale by a pre-uid replica's rename.
  if r.w.uid and redis.call('GET', k('workspace-uid', r.w.uid)) ~= r.id then
    redis.call('SET', k('workspace-uid', r.w.uid), r.id)
  end
end
return done(given, missing)
