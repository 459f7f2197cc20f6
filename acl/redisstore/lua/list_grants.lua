-- A: workspace id.
if not exists('workspace', A[1]) then return notfound('workspace', A[1]) end
local out = {'ok'}
for _, raw in ipairs(redis.call('HVALS', k('workspace', A[1], 'grants'))) do out[#out + 1] = raw end
return out
