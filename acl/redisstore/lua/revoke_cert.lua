-- A: revocation key, record JSON (without revoked_at and revoked_by), serial
-- ("" for none), fingerprint ("" for none).
local key = k('revoked-cert', A[1])
if redis.call('EXISTS', key) == 1 then return conflict('revocation', A[1], 'is already revoked') end
local r = cjson.decode(A[2])
r.revoked_at = NOW
if ACTOR ~= '' then r.revoked_by = ACTOR end
redis.call('SET', key, cjson.encode(r))
redis.call('SADD', k('revoked-certs'), A[1])
local ev = {kind = 'cert_revoked'}
if A[3] ~= '' then ev.cert_serial = A[3] end
if A[4] ~= '' then ev.fingerprint = A[4] end
emit(ev)
return done()
