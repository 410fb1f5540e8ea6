--- invite.uuid: random (version 4) UUIDs, for the idempotency tokens the client fills in
-- (a member declared `idempotency_token = true`, as botocore fills its `idempotencyToken` members).
--
-- The 122 random bits come from the operating system's generator, /dev/urandom, read afresh
-- for each UUID (no buffer: a forked process cannot hand out its parent's next bytes). There is
-- no fallback to math.random: a token two callers could share would make RAM answer one caller's
-- call with the other's result.
-- @module invite.uuid
local format, byte = string.format, string.byte
local open = io.open

local _M = {}

--- The random source (a path; specs replace it).
_M.SOURCE = "/dev/urandom"

--- A new random UUID, e.g. "1b4e28ba-2fa1-4d2b-883f-0016d3cca427".
-- @treturn string 36 characters, lower-case hex, version 4, RFC 4122 variant
-- @return[2] nil
-- @return[2] string why no random bytes could be read
function _M.v4()
  local f, err = open(_M.SOURCE, "rb")
  if not f then return nil, "cannot open " .. _M.SOURCE .. ": " .. tostring(err) end
  f:setvbuf("no")
  local bytes = f:read(16)
  f:close()
  if type(bytes) ~= "string" or #bytes ~= 16 then
    return nil, "cannot read 16 random bytes from " .. _M.SOURCE
  end
  local b = { byte(bytes, 1, 16) }
  b[7] = b[7] % 16 + 64   -- version 4: the high nibble of byte 7 is 0100
  b[9] = b[9] % 64 + 128  -- RFC 4122 variant: the high bits of byte 9 are 10
  return format("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
    b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15], b[16])
end

return _M
