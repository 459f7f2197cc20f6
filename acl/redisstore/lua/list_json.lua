-- A: set key, item key kind, and optionally a key that must exist with the
-- kind and name to report when it does not.
if A[3] and not exists(A[3]) then return notfound(A[4], A[5]) end
return list_json(A[1], A[2])
