-- A: user names; the users that exist, each as get_user returns one.
local out = {'ok'}
for _, name in ipairs(A) do
  out[#out + 1] = user_reply(name)
end
return out
