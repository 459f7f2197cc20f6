-- Makes the key index (key:<fingerprint> → user) agree with the users' key
-- hashes, as filestore's open does: every write has kept them together, so
-- on such data it writes nothing. A key missing from the index is indexed
-- to its user. A key on several users stays with the user the index names
-- if that user holds it (the one it logs in as today), else with the first
-- user by name, and is removed from the others. Index entries naming a user
-- who lacks the key are dropped. Returns fingerprint, kept, removed-from
-- triples for the caller to log.
local names = redis.call('SMEMBERS', k('users'))
table.sort(names)
local holds, order = {}, {}
for _, n in ipairs(names) do
  for _, fp in ipairs(redis.call('HKEYS', k('user', n, 'keys'))) do
    if not holds[fp] then
      holds[fp] = {}
      order[#order + 1] = fp
    end
    table.insert(holds[fp], n)
  end
end
local out = {}
for _, fp in ipairs(order) do
  local hs = holds[fp]
  local cur = redis.call('GET', k('key', fp))
  local keeper = hs[1]
  for _, n in ipairs(hs) do
    if n == cur then keeper = cur end
  end
  if cur ~= keeper then redis.call('SET', k('key', fp), keeper) end
  for _, n in ipairs(hs) do
    if n ~= keeper then
      redis.call('HDEL', k('user', n, 'keys'), fp)
      out[#out + 1] = fp
      out[#out + 1] = keeper
      out[#out + 1] = n
    end
  end
end
-- Stale entries: the index is walked with SCAN; the match is re-checked
-- literally, as the prefix may hold glob characters.
local base = k('key', '')
local cursor = '0'
repeat
  local page = redis.call('SCAN', cursor, 'MATCH', base .. '*', 'COUNT', 1000)
  cursor = page[1]
  for _, key in ipairs(page[2]) do
    if string.sub(key, 1, #base) == base then
      local fp = string.sub(key, #base + 1)
      local holder = redis.call('GET', key)
      local ok = false
      for _, n in ipairs(holds[fp] or {}) do
        if n == holder then ok = true end
      end
      if not ok then redis.call('DEL', key) end
    end
  end
until cursor == '0'
return done(unpack(out))
