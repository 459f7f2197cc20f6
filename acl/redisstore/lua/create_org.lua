-- A: name, org JSON, "1" when sharing is disabled.
if exists('org', A[1]) then return conflict('org', A[1]) end
redis.call('SET', k('org', A[1]), A[2])
redis.call('SADD', k('orgs'), A[1])
if A[3] == '1' then emit({kind = 'sharing_disabled', org = A[1]}) end
return done()
