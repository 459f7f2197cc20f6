local out = {'ok'}
for _, name in ipairs(redis.call('SMEMBERS', k('users'))) do
  out[#out + 1] = user_reply(name)
end
return out
