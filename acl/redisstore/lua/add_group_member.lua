-- A: group, user.
if not exists('group', A[1]) then return notfound('group', A[1]) end
if not exists('user', A[2]) then return notfound('user', A[2]) end
if redis.call('SISMEMBER', k('group', A[1], 'members'), A[2]) == 1 then
  return conflict('member', A[2], 'already in group ' .. A[1])
end
redis.call('SADD', k('group', A[1], 'members'), A[2])
redis.call('SADD', k('user', A[2], 'groups'), A[1])
return done()
