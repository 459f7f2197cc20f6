-- A: id, time to live (ms). Records the id for that long unless it is
-- already there; returns 1 for a first use, 0 for a repeat.
local set = redis.call('SET', k('once', A[1]), '1', 'NX', 'PX', A[2])
if set then return done(1) end
return done(0)
