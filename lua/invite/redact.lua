--- Redaction of the caller's own secrets from any text invite prints or writes.
--
-- A server may echo what it was sent (a session token in an error message, a secret key in an
-- invitation field). Every secret access key and session token the clients sign with is
-- registered here (the first `MAX` distinct ones: the caller's own credentials come first; the
-- secrets of each call are also passed to @{text} directly, so an error is redacted with the
-- keys of the call that got it however many accounts a run assumes). Text is searched for each
-- secret verbatim and as JSON writes it (`/` escaped as `\/`); every occurrence becomes
-- `[redacted]`. Secrets shorter than 8 bytes are not registered (they would match ordinary
-- text; no AWS secret is that short).
-- @module invite.redact
local _M = {}

local type, find, sub, gsub = type, string.find, string.sub, string.gsub
local concat = table.concat

--- How many distinct secrets the process-wide registry keeps.
_M.MAX = 16
--- What a secret is replaced with.
_M.MARK = "[redacted]"
local MIN = 8

local known = {}   -- secret -> true
local nknown = 0   -- how many secrets `known` holds
local forms = {}   -- array: every registered secret and its JSON-escaped form
local shortest = math.huge

local function add_form(s)
  forms[#forms + 1] = s
  if #s < shortest then shortest = #s end
end

--- Registers a secret (a secret access key or session token). Returns nothing.
-- @tparam ?string secret ignored when nil, shorter than 8 bytes, known already or the registry is full
function _M.register(secret)
  if type(secret) ~= "string" or #secret < MIN or known[secret] or nknown >= _M.MAX then return end
  known[secret] = true
  nknown = nknown + 1
  add_form(secret)
  local escaped = gsub(secret, "/", "\\/")
  if escaped ~= secret then add_form(escaped) end
end

--- Forgets every registered secret (tests).
function _M.clear()
  known, nknown, forms, shortest = {}, 0, {}, math.huge
end

-- s with every plain occurrence of secret replaced by the mark
local function replace(s, secret)
  local i = find(s, secret, 1, true)
  if not i then return s end
  local out, from, n = {}, 1, #secret
  while i do
    out[#out + 1] = sub(s, from, i - 1)
    out[#out + 1] = _M.MARK
    from = i + n
    i = find(s, secret, from, true)
  end
  out[#out + 1] = sub(s, from)
  return concat(out)
end

local function replace_secret(s, secret)
  if type(secret) ~= "string" or #secret < MIN then return s end
  s = replace(s, secret)
  local escaped = gsub(secret, "/", "\\/")
  if escaped ~= secret then s = replace(s, escaped) end
  return s
end

--- `s` without any registered secret, nor `a` or `b` (the secrets of the call at hand).
-- @param s any value; only strings are changed
-- @tparam[opt] string a
-- @tparam[opt] string b
-- @return s, redacted
function _M.text(s, a, b)
  if type(s) ~= "string" then return s end
  if a then s = replace_secret(s, a) end
  if b then s = replace_secret(s, b) end
  if #s < shortest then return s end
  for i = 1, #forms do s = replace(s, forms[i]) end
  return s
end

--- Redacts the server-supplied text fields of an error table in place (`message`, `code`,
-- `request_id`) with @{text}; returns the error.
-- @tparam table err
-- @tparam[opt] string a
-- @tparam[opt] string b
-- @treturn table err
function _M.error(err, a, b)
  if type(err) ~= "table" then return err end
  err.message = _M.text(err.message, a, b)
  err.code = _M.text(err.code, a, b)
  err.request_id = _M.text(err.request_id, a, b)
  return err
end

return _M
