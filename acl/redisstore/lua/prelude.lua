-- Shared by every script. ARGV[1] is the key prefix, ARGV[2] the write's
-- time (RFC 3339), ARGV[3] the same time as 19-digit Unix nanoseconds and
-- ARGV[4] the acting user ("" for none), copied into every event; the
-- operation's own arguments follow, as A[1], A[2], ...
--
-- Scripts check everything before their first write: Redis does not roll a
-- script back, so a failed write must return before touching anything.
local P, NOW, NOWNS, ACTOR = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local A = {}
for i = 5, #ARGV do A[#A + 1] = ARGV[i] end

local function k(...) return P .. table.concat({...}, ':') end

local pending = {}
local function emit(ev)
  ev.at = NOW
  if ACTOR ~= '' then ev.actor = ACTOR end
  pending[#pending + 1] = cjson.encode(ev)
end
-- done publishes the events of this write and reports success.
local function done(...)
  for _, e in ipairs(pending) do redis.call('PUBLISH', P .. 'events', e) end
  return {'ok', ...}
end
local function notfound(kind, name) return {'notfound', kind, name} end
local function conflict(kind, name, detail) return {'conflict', kind, name, detail or ''} end
-- key_in_use is a key another user holds (acl.KeyInUse): never says whose.
local function key_in_use(fp) return {'keyinuse', fp} end
local function invalid(field, detail) return {'invalid', field, detail} end
local function exists(...) return redis.call('EXISTS', k(...)) == 1 end

-- user_reply is a user as get_user returns one ({user JSON, key JSONs,
-- group names}), nil when there is none.
local function user_reply(name)
  local raw = redis.call('GET', k('user', name))
  if not raw then return nil end
  return {raw, redis.call('HVALS', k('user', name, 'keys')), redis.call('SMEMBERS', k('user', name, 'groups'))}
end

local function wsref(id)
  local owner, name = string.match(id, '^([^/]+)/(.+)$')
  return {Owner = owner, Name = name}
end

-- Grants: hash workspace:<id>:grants, field "<kind>:<subject>"; index set
-- <kind>:<subject>:grants of workspace ids; expiry sorted set grant-expiry
-- with members "<expiry_key>|<id>|<field>" (all scores 0, ordered by text).
local function expiry_member(g, id, field) return g.expiry_key .. '|' .. id .. '|' .. field end

local function del_grant(id, field, raw)
  local g = cjson.decode(raw)
  redis.call('HDEL', k('workspace', id, 'grants'), field)
  redis.call('SREM', P .. field .. ':grants', id)
  if g.expiry_key then redis.call('ZREM', k('grant-expiry'), expiry_member(g, id, field)) end
  return g
end

local function put_grant(id, field, g)
  redis.call('HSET', k('workspace', id, 'grants'), field, cjson.encode(g))
  redis.call('SADD', P .. field .. ':grants', id)
  if g.expiry_key then redis.call('ZADD', k('grant-expiry'), 0, expiry_member(g, id, field)) end
end

-- ws_uid is the uid of the stored workspace id; nil when it has none
-- (written before uids existed and not yet migrated) or is gone.
local function ws_uid(id)
  local raw = redis.call('GET', k('workspace', id))
  if not raw then return nil end
  local uid = cjson.decode(raw).uid
  if type(uid) ~= 'string' or uid == '' then return nil end
  return uid
end

-- move_workspace stores w under new in place of old, as a rename and a
-- transfer both do: the agent-token and uid indexes, the record, the set
-- of all workspaces and the owners' sets (the grants are the caller's).
-- It returns the workspace's uid.
local function move_workspace(old, new, w, from_owner, to_owner)
  if w.agent_token_hash and w.agent_token_hash ~= '' then
    redis.call('SET', k('agent-token', w.agent_token_hash), new)
  end
  local uid = ws_uid(old)
  if uid then redis.call('SET', k('workspace-uid', uid), new) end
  redis.call('DEL', k('workspace', old))
  redis.call('SET', k('workspace', new), cjson.encode(w))
  redis.call('SREM', k('workspaces'), old)
  redis.call('SADD', k('workspaces'), new)
  redis.call('SREM', k('user', from_owner, 'workspaces'), old)
  redis.call('SADD', k('user', to_owner, 'workspaces'), new)
  return uid
end

local function grant_event(kind, id, uid, field, role)
  local subject_kind, subject = string.match(field, '^(%a+):(.+)$')
  local ev = {kind = kind, workspace = wsref(id), workspace_uid = uid, role = role}
  ev[subject_kind] = subject
  return ev
end

-- drop_subject_grants removes every grant naming a user or group.
local function drop_subject_grants(field)
  for _, id in ipairs(redis.call('SMEMBERS', P .. field .. ':grants')) do
    local raw = redis.call('HGET', k('workspace', id, 'grants'), field)
    if raw then del_grant(id, field, raw) end
  end
  redis.call('DEL', P .. field .. ':grants')
end

-- list_json returns the JSON values of the keys <item>:<member> for every
-- member of the set <set>.
local function list_json(set, item)
  local out = {'ok'}
  for _, m in ipairs(redis.call('SMEMBERS', P .. set)) do
    local raw = redis.call('GET', k(item, m))
    if raw then out[#out + 1] = raw end
  end
  return out
end

