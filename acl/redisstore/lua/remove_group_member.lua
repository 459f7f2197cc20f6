-- A: group, user.
if not exists('group', A[1]) then return notfound('group', A[1]) end
if not exists('user', A[2]) then return notfound('user', A[2]) end
if redis.call('SREM', k('group', A[1], 'members'), A[2]) == 0 then return notfound('member', A[2]) end
redis.call('SREM', k('user', A[2], 'groups'), A[1])
emit({kind = 'group_member_removed', group = A[1], user = A[2]})
return done()
