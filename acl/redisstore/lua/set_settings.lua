-- A: settings JSON, "1" when sharing is disabled.
redis.call('SET', k('settings'), A[1])
if A[2] == '1' then emit({kind = 'sharing_disabled'}) end
return done()
