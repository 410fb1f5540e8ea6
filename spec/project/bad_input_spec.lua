-- A catalog of bad inputs across the public Lua API and the CLI. Every case asserts
--   (a) a clear error naming the problem: the field / flag / file and the rule broken (the
--       exact text is asserted, not just "an error"), and
--   (b) through the simulator's request log that nothing was sent: one simulator runs for the
--       whole file, every library call and CLI run points at it, and its log must stay empty.
--       (Policy cases list the invitations first - the policy decides on them - so there the rule
--       is: reads only, no mutating call.)
-- The cases are one data table driven by one loop; the last test prints how many there are.
--
-- Kinds:
--   api     f() -> nil, err: err is an invite error (code, message, retryable = false, no status
--           and no request ID since nothing was sent, __tostring one line); `code` and `text` match
--   raise   f() raises (misuse); the message has `text` and blames the caller, not lua/invite/
--   policy  invite.run{ apply = true, policy = ... } on macie2 us-east-1: the scope fails with
--           `text`, no invitation is acted on (each row the policy failed on is an error with
--           its own cause, the rest skipped), only GETs reached the simulator
--   cli     bin/invite ARGS as a subprocess: exit code `exit`, stderr has `text`, stdout is empty
--           (reads-only cases: `reads = true`); api and cli cases: no text of `absent` in the output
--   sim     bin/invite sim --fixtures FILE: refuses to start (exit 2, `text` on stderr, nothing on
--           stdout - no "listening" line)
-- In args, env values and file contents, {EP} is the simulator's endpoint, {PORT} its port and
-- {TMP} a temporary directory holding the files of `files` (name -> content).
local interp = require "support.interp"
local sim = require "support.sim"
local validate = require "invite.validate"

local MUTATING = { DeclineInvitations = true, DeleteInvitations = true, AcceptInvitation = true,
                   AcceptAdministratorInvitation = true, AcceptAdministratorInvitationDeprecated = true,
                   DisassociateFromAdministratorAccount = true, DisassociateFromMasterAccount = true }

local s, tmp          -- the simulator and the temporary directory (setup)
local prod = sim.keys.prod

local function sh(v) return "'" .. tostring(v):gsub("'", "'\\''") .. "'" end

local function subst(v)
  if type(v) ~= "string" then return v end
  return (v:gsub("{EP}", s.endpoint):gsub("{PORT}", tostring(s.port)):gsub("{TMP}", tmp))
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local t = f:read("*a")
  f:close()
  return t
end

local function write(path, content)
  local f = assert(io.open(path, "wb"))
  f:write(content)
  f:close()
  return path
end

-- A client of the simulator with the example organisation's "prod" keys; `o` overrides.
local function client(service, o)
  local opts = { region = "us-east-1", endpoint = s.endpoint, max_attempts = 1,
                 credentials = { access_key_id = prod.access_key_id, secret_access_key = prod.secret_access_key } }
  for k, v in pairs(o or {}) do opts[k] = v end
  for k, v in pairs(opts) do if v == false then opts[k] = nil end end -- false: leave it to the environment
  return require("invite")[service].client(opts)
end

-- An environment for the library's config and credential lookups (opts.env): no real file is read,
-- no instance metadata is asked, and STS (assume role, web identity) would be the simulator - so a
-- regression that let a credential case go on would show in the request log, not reach AWS.
local function env(vars)
  local e = { HOME = tmp, AWS_CONFIG_FILE = "/dev/null", AWS_SHARED_CREDENTIALS_FILE = "/dev/null",
              AWS_EC2_METADATA_DISABLED = "true", AWS_ENDPOINT_URL_STS = s.endpoint }
  for k, v in pairs(vars or {}) do e[k] = subst(v) end
  return e
end

-- n distinct valid account IDs with `bad` at index `at`.
local function ids(n, at, bad)
  local t = {}
  for i = 1, n do t[i] = string.format("%012d", 100000000000 + i) end
  if at then t[at] = bad end
  return t
end

local function run(o)
  local opts = { services = { "macie2" }, regions = { "us-east-1" }, endpoint = s.endpoint, max_attempts = 1,
                 credentials = { access_key_id = prod.access_key_id, secret_access_key = prod.secret_access_key } }
  for k, v in pairs(o) do opts[k] = v end
  return require("invite").run(opts)
end

local function keep() return "keep" end

-- invite.sigv4.sign with a valid GuardDuty request, `o` overriding (false: leave the field out).
local function sign(o)
  local req = { method = "POST", path = "/invitation/decline", body = '{"accountIds":["222222222222"]}',
                headers = { { "Host", "guardduty.us-east-1.amazonaws.com" } }, region = "us-east-1",
                service = "guardduty", access_key = prod.access_key_id, secret_key = prod.secret_access_key,
                time = 1440938160 }
  for k, v in pairs(o) do req[k] = v end
  for k, v in pairs(req) do if v == false then req[k] = nil end end
  return require("invite.sigv4").sign(req)
end

local INI_BROKEN = {
  no_bracket = "[default\nregion = us-east-1\n",
  before_section = "region = us-east-1\n[default]\n",
  dup_key = "[default]\nregion = us-east-1\nregion = eu-west-1\n",
  junk = "[default]\naws_access_key_id = AKIAEXAMPLE\nthis line is junk\n",
  dup_section = "[profile audit]\nregion = us-east-1\n[profile audit]\nregion = eu-west-1\n",
  -- session tokens pasted where no key belongs: the messages must not quote them (nor lower-cased)
  bare_token = "AQoDYXdzEJr1K2PastedToken/Example+x==\n[default]\n",
  colon_token = "[default]\nFQoGZXIvYXdzPasted:TokenExample\nFQoGZXIvYXdzPasted:TokenExample\n",
  header_token = "[default]\nregion = us-east-1\n[IQoJb3JpZ2luPastedTokenExample==\n",
}
local PASTED = { "AQoDYXdzEJr1K2Pa", "aqodyxdzejr1k2pa", "PastedToken", "pastedtoken", "FQoGZXIv", "fqogzxiv",
                 "IQoJb3Jp", "TokenExample", "tokenexample" }

-- The expected messages are kept whole, one per line, so a failing case can be found by grepping
-- the message: the table may pass 120 columns.
-- luacheck: push ignore 631
local CASES = {
  ------------------------------------------------------------------------------------------------
  -- Service calls: account IDs
  ------------------------------------------------------------------------------------------------
  { "api", "macie2 decline_invitations: a 13-digit account ID", code = "ValidationError",
    text = { 'macie2.decline_invitations: invalid parameters: accountIds[1]: must be a 12-digit account ID string, got "1234567890123"' },
    f = function() return client("macie2"):decline_invitations{ accountIds = { "1234567890123" } } end },
  { "api", "guardduty decline_invitations: an 11-digit account ID", code = "ValidationError",
    text = { 'AccountIds[1]: must be a 12-digit account ID string, got "12345678901"' },
    f = function() return client("guardduty"):decline_invitations{ AccountIds = { "12345678901" } } end },
  { "api", "securityhub delete_invitations: a non-digit in an account ID", code = "ValidationError",
    text = { 'securityhub.delete_invitations', 'AccountIds[1]: must be a 12-digit account ID string, got "12345678901a"' },
    f = function() return client("securityhub"):delete_invitations{ AccountIds = { "12345678901a" } } end },
  { "api", "an account ID given as a number", code = "ValidationError",
    text = { "AccountIds[1]: must be a 12-digit account ID string, got 123456789012 (a number); pass it as a string" },
    f = function() return client("securityhub"):decline_invitations{ AccountIds = { 123456789012 } } end },
  { "api", "an account ID given as a boolean", code = "ValidationError",
    text = { "accountIds[1]: must be a string, got a boolean" },
    f = function() return client("macie2"):decline_invitations{ accountIds = { true } } end },
  { "api", "an account ID with a leading space", code = "ValidationError",
    text = { 'accountIds[1]: must be a 12-digit account ID string, got " 123456789012"' },
    f = function() return client("macie2"):decline_invitations{ accountIds = { " 123456789012" } } end },
  { "api", "an account ID of Arabic-Indic digits (unicode)", code = "ValidationError",
    text = { 'accountIds[1]: must be a 12-digit account ID string, got "١٢٣٤٥٦٧٨٩٠١٢"' },
    f = function() return client("macie2"):decline_invitations{ accountIds = { "١٢٣٤٥٦٧٨٩٠١٢" } } end },
  { "api", "an account ID of full-width digits (unicode)", code = "ValidationError",
    text = { 'AccountIds[1]: must be a 12-digit account ID string, got "１２３４５６７８９０１２"' },
    f = function() return client("guardduty"):delete_invitations{ AccountIds = { "１２３４５６７８９０１２" } } end },
  { "api", "an account ID with a trailing NUL byte", code = "ValidationError",
    text = { "accountIds[1]: must be a 12-digit account ID string, got" },
    f = function() return client("macie2"):decline_invitations{ accountIds = { "12345678901\0" } } end },
  { "api", "a 1 MB account ID (huge string; the message shows 40 bytes of it)", code = "ValidationError",
    text = { 'accountIds[1]: must be a 12-digit account ID string, got "1111111111111111111111111111111111111111..."' },
    f = function() return client("macie2"):decline_invitations{ accountIds = { string.rep("1", 1000000) } } end },
  { "api", "one bad ID among 10,000 (index 7777): no batch of 50 is sent", code = "ValidationError",
    text = { 'accountIds[7777]: must be a 12-digit account ID string, got "77777777777x"' },
    f = function() return client("macie2"):decline_invitations{ accountIds = ids(10000, 7777, "77777777777x") } end },
  { "api", "one bad ID as the last of 10,000: the first 199 valid batches are not sent either",
    code = "ValidationError", text = { 'AccountIds[10000]: must be a 12-digit account ID string, got "1"' },
    f = function() return client("guardduty"):decline_invitations{ AccountIds = ids(10000, 10000, "1") } end },
  { "api", "securityhub accept: an 11-digit administrator ID", code = "ValidationError",
    text = { 'AdministratorId: must be a 12-digit account ID string, got "11111111111"' },
    f = function()
      return client("securityhub"):accept_administrator_invitation{ AdministratorId = "11111111111", InvitationId = "i" }
    end },
  { "api", "macie2 accept: an administrator ID with a dash", code = "ValidationError",
    text = { 'administratorAccountId: must be a 12-digit account ID string, got "1111-1111-1111"' },
    f = function()
      return client("macie2"):accept_invitation{ administratorAccountId = "1111-1111-1111", invitationId = "i" }
    end },
  { "api", "a module-level call (default client) with a 13-digit ID", code = "ValidationError",
    text = { 'macie2.delete_invitations: invalid parameters: accountIds[1]: must be a 12-digit account ID string, got "2222222222222"' },
    f = function()
      local m = require("invite").macie2
      m.configure{ region = "us-east-1", endpoint = s.endpoint, max_attempts = 1,
                   credentials = { access_key_id = prod.access_key_id, secret_access_key = prod.secret_access_key } }
      local res, err = m.delete_invitations{ accountIds = { "2222222222222" } }
      m.configure{}
      return res, err
    end },
  ------------------------------------------------------------------------------------------------
  -- Service calls: lists, parameter names and types
  ------------------------------------------------------------------------------------------------
  { "api", "an empty account ID list", code = "ValidationError",
    text = { "securityhub.decline_invitations: invalid parameters: AccountIds: must be a non-empty list" },
    f = function() return client("securityhub"):decline_invitations{ AccountIds = {} } end },
  { "api", "no account ID list at all (nil)", code = "ValidationError",
    text = { "guardduty.decline_invitations: invalid parameters: AccountIds: missing required parameter" },
    f = function() return client("guardduty"):decline_invitations{} end },
  { "api", "a string where the list goes", code = "ValidationError",
    text = { 'accountIds: must be a list (a Lua array), got "123456789012"' },
    f = function() return client("macie2"):decline_invitations{ accountIds = "123456789012" } end },
  { "api", "a map where the list goes", code = "ValidationError",
    text = { "accountIds: must be a list (a Lua array with keys 1..n), got a table with other keys" },
    f = function() return client("macie2"):decline_invitations{ accountIds = { first = "123456789012" } } end },
  { "api", "a list with a hole ([1] and [3])", code = "ValidationError",
    text = { "AccountIds: must be a list (a Lua array with keys 1..n), got a table with other keys" },
    f = function() return client("securityhub"):decline_invitations{ AccountIds = { [1] = "123456789012", [3] = "210987654321" } } end },
  { "api", "macie2 with securityhub's spelling AccountIds (unknown member)", code = "ValidationError",
    text = { 'unknown parameter "AccountIds" (did you mean "accountIds"?)', "accountIds: missing required parameter" },
    f = function() return client("macie2"):decline_invitations{ AccountIds = { "123456789012" } } end },
  { "api", "guardduty with the wire name accountIds (unknown member, not silently dropped)", code = "ValidationError",
    text = { 'unknown parameter "accountIds" (did you mean "AccountIds"?)' },
    f = function() return client("guardduty"):decline_invitations{ accountIds = { "123456789012" } } end },
  { "api", "an unknown member beside valid ones", code = "ValidationError",
    text = { 'macie2.list_invitations: invalid parameters: unknown parameter "Foo" (valid parameters: maxResults, nextToken)' },
    f = function() return client("macie2"):list_invitations{ Foo = 1, nextToken = "x" } end },
  { "api", "parameters given as a string, not a table", code = "ValidationError",
    text = { 'macie2.decline_invitations: parameters must be a table, got "123456789012"' },
    f = function() return client("macie2"):decline_invitations("123456789012") end },
  { "api", "a positional value instead of named parameters", code = "ValidationError",
    text = { "parameters must be named, got a positional value at [1]" },
    f = function() return client("macie2"):decline_invitations{ "123456789012" } end },
  { "api", "macie2 maxResults 0 (range 1-25)", code = "ValidationError",
    text = { "maxResults: must be an integer between 1 and 25, got 0" },
    f = function() return client("macie2"):list_invitations{ maxResults = 0 } end },
  { "api", "macie2 maxResults 26 (range 1-25)", code = "ValidationError",
    text = { "maxResults: must be an integer between 1 and 25, got 26" },
    f = function() return client("macie2"):list_invitations{ maxResults = 26 } end },
  { "api", "guardduty MaxResults 51 (range 1-50)", code = "ValidationError",
    text = { "guardduty.list_invitations", "MaxResults: must be an integer between 1 and 50, got 51" },
    f = function() return client("guardduty"):list_invitations{ MaxResults = 51 } end },
  { "api", "a fractional maxResults", code = "ValidationError",
    text = { "maxResults: must be an integer between 1 and 25, got 1.5 (a number)" },
    f = function() return client("macie2"):list_invitations{ maxResults = 1.5 } end },
  { "api", "NaN as maxResults", code = "ValidationError",
    text = { "maxResults: must be an integer between 1 and 25, got " },
    f = function() return client("macie2"):list_invitations{ maxResults = 0 / 0 } end },
  { "api", "maxResults as a numeric string", code = "ValidationError",
    text = { 'MaxResults: must be an integer between 1 and 50, got "10"' },
    f = function() return client("securityhub"):list_invitations{ MaxResults = "10" } end },
  { "api", "nextToken as a number", code = "ValidationError",
    text = { "nextToken: must be a string, got 5 (a number)" },
    f = function() return client("macie2"):list_invitations{ nextToken = 5 } end },
  { "api", "a NUL byte inside nextToken", code = "ValidationError",
    text = { "nextToken: must not contain a NUL byte (found at byte 4)" },
    f = function() return client("macie2"):list_invitations{ nextToken = "abc\0def" } end },
  { "api", "a NUL byte inside an invitation ID", code = "ValidationError",
    text = { "securityhub.accept_administrator_invitation", "InvitationId: must not contain a NUL byte (found at byte 3)" },
    f = function()
      return client("securityhub"):accept_administrator_invitation{ AdministratorId = "123456789012", InvitationId = "ab\0c" }
    end },
  { "api", "an invitation ID that is not UTF-8", code = "ValidationError",
    text = { "InvitationId: must be valid UTF-8 (invalid byte sequence at byte 4)" },
    f = function()
      return client("securityhub"):accept_administrator_invitation{ AdministratorId = "123456789012", InvitationId = "inv\255\254" }
    end },
  { "api", "a UTF-16 surrogate encoded in UTF-8 (CESU) in an invitation ID", code = "ValidationError",
    text = { "invitationId: must be valid UTF-8 (invalid byte sequence at byte 1)" },
    f = function() return client("macie2"):accept_invitation{ invitationId = "\237\160\128x" } end },
  { "api", "an overlong UTF-8 encoding (C0 80 for NUL) in an invitation ID", code = "ValidationError",
    text = { "invitationId: must be valid UTF-8 (invalid byte sequence at byte 3)" },
    f = function() return client("macie2"):accept_invitation{ invitationId = "ab\192\128" } end },
  { "api", "a code point above U+10FFFF in nextToken", code = "ValidationError",
    text = { "NextToken: must be valid UTF-8 (invalid byte sequence at byte 1)" },
    f = function() return client("guardduty"):list_invitations{ NextToken = "\244\144\128\128" } end },
  { "api", "a blank invitation ID", code = "ValidationError",
    text = { "InvitationId: must not be empty or blank" },
    f = function()
      return client("securityhub"):accept_administrator_invitation{ AdministratorId = "123456789012", InvitationId = "   " }
    end },
  { "api", "an empty GuardDuty detector ID", code = "ValidationError",
    text = { "DetectorId: must be at least 1 characters long, got 0" },
    f = function()
      return client("guardduty"):accept_administrator_invitation{ DetectorId = "", AdministratorId = "123456789012",
                                                                   InvitationId = "x" }
    end },
  { "api", "a 100 kB GuardDuty detector ID (huge string)", code = "ValidationError",
    text = { "DetectorId: must be at most 300 characters long, got 100000" },
    f = function()
      return client("guardduty"):accept_administrator_invitation{ DetectorId = string.rep("d", 100000),
                                                                   AdministratorId = "123456789012", InvitationId = "x" }
    end },
  { "api", "guardduty accept without DetectorId", code = "ValidationError",
    text = { "DetectorId: missing required parameter" },
    f = function()
      return client("guardduty"):accept_administrator_invitation{ AdministratorId = "123456789012", InvitationId = "x" }
    end },
  ------------------------------------------------------------------------------------------------
  -- Misuse of the Lua API (raises, blaming the caller)
  ------------------------------------------------------------------------------------------------
  { "raise", "an operation name that does not exist",
    text = { 'invite.macie2: no operation "decline_invitation" (did you mean "decline_invitations"?)' },
    f = function() local c = client("macie2"); return c:call("decline_invitation", {}) end },
  { "raise", "an operation called with a dot instead of a colon",
    text = { "invite.macie2.decline_invitations: call it as client:decline_invitations{...} (with a colon)" },
    f = function() local c = client("macie2"); return c.decline_invitations{ accountIds = { "123456789012" } } end },
  { "raise", "a module-level call with two parameter tables",
    text = { "invite.macie2.decline_invitations takes one table of parameters" },
    f = function()
      return require("invite").macie2.decline_invitations({ accountIds = { "123456789012" } }, { accountIds = {} })
    end },
  { "raise", "a misspelt client option",
    text = { 'invite.macie2.client: unknown option "regoin" (did you mean "region"?)' },
    f = function() return client("macie2", { regoin = "us-east-1" }) end },
  { "raise", "a client option of the wrong type",
    text = { "invite.guardduty.client: option region must be a string, got number" },
    f = function() return client("guardduty", { region = 1 }) end },
  { "raise", "a page limit of 0 (max_pages)",
    text = { "invite.guardduty.client: option max_pages must be a whole number >= 1, got 0" },
    f = function() return client("guardduty", { max_pages = 0 }) end },
  { "raise", "a fractional item limit (max_items)",
    text = { "invite.macie2.client: option max_items must be a whole number >= 1, got 2.5" },
    f = function() return client("macie2", { max_items = 2.5 }) end },
  { "raise", "a body limit of 0 bytes (max_body_bytes)",
    text = { "invite.securityhub.client: option max_body_bytes must be a positive whole number of bytes" },
    f = function() return client("securityhub", { max_body_bytes = 0 }) end },
  { "raise", "invite.run with a negative page limit",
    text = { "invite.run: max_pages must be a whole number >= 1, got -1" },
    f = function() return run{ policy = keep, max_pages = -1 } end },
  { "raise", "client options given as a string",
    text = { "invite.macie2.client: options must be a table" },
    f = function() return require("invite").macie2.client("us-east-1") end },
  { "raise", "a transport that is neither a name, a function nor an object",
    text = { "invite.securityhub.client: option transport must be a kind name, a function or an object with :request" },
    f = function() return client("securityhub", { transport = 42 }) end },
  { "raise", "configure with a string",
    text = { "configure: options must be a table" },
    f = function() return require("invite").macie2.configure("us-east-1") end },
  ------------------------------------------------------------------------------------------------
  -- The signer on its own (invite.sigv4.sign: nothing is sent by it, the shape of its errors is
  -- the same)
  ------------------------------------------------------------------------------------------------
  { "api", "sigv4.sign: a header value with CR LF (header injection)", code = "ValidationError",
    text = { "sigv4: headers[2]: header value contains a control character or a line break that is not a fold" },
    f = function() return sign{ headers = { { "Host", "guardduty.us-east-1.amazonaws.com" }, { "X-A", "a\r\nX-B: b" } } } end },
  { "api", "sigv4.sign: a header name with a space", code = "ValidationError",
    text = { "sigv4: headers[2]: header name must be a non-empty HTTP token" },
    f = function() return sign{ headers = { { "Host", "guardduty.us-east-1.amazonaws.com" }, { "X A", "a" } } } end },
  { "api", "sigv4.sign: a path without the leading /", code = "ValidationError",
    text = { "sigv4: path: path must start with '/' and contain no control characters, '?' or '#'" },
    f = function() return sign{ path = "invitation/decline" } end },
  { "api", "sigv4.sign: presigned for 0 seconds", code = "ValidationError",
    text = { "sigv4: expires: expires must be between 1 and 604800 seconds" },
    f = function() return sign{ presign = true, expires = 0 } end },
  { "raise", "sigv4.sign: time given as a string",
    text = { "invite.sigv4.sign: field 'time' must be a number or nil (got string)" },
    f = function() return sign{ time = "now" } end },
  { "raise", "sigv4.sign: no secret key",
    text = { "invite.sigv4.sign: field 'secret_key' must be a string (got nil)" },
    f = function() return sign{ secret_key = false } end },
  ------------------------------------------------------------------------------------------------
  -- Regions and endpoints
  ------------------------------------------------------------------------------------------------
  { "api", "region US_EAST_1 (upper case, underscores)", code = "InvalidRegionError",
    text = { 'invalid region "US_EAST_1": a region is 2-63 lower-case letters, digits and \'-\', like us-east-1' },
    f = function() return client("macie2", { region = "US_EAST_1" }):list_invitations{} end },
  { "api", "an empty region", code = "InvalidRegionError", text = { 'invalid region ""' },
    f = function() return client("guardduty", { region = "" }):list_detectors{} end },
  { "api", "a region with a path in it", code = "InvalidRegionError", text = { 'invalid region "us-east-1/../x"' },
    f = function() return client("macie2", { region = "us-east-1/../x" }):list_invitations{} end },
  { "api", "a region with a NUL byte", code = "InvalidRegionError", text = { "invalid region ", "us-east-1" },
    f = function() return client("macie2", { region = "us-east-1\0" }):list_invitations{} end },
  { "api", "a region with a non-ASCII letter (unicode)", code = "InvalidRegionError", text = { 'invalid region "us-éast-1"' },
    f = function() return client("securityhub", { region = "us-éast-1" }):list_invitations{} end },
  { "api", "a 100 kB region (huge string)", code = "InvalidRegionError",
    text = { 'invalid region "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..."' },
    f = function() return client("macie2", { region = string.rep("a", 100000) }):list_invitations{} end },
  { "api", "AWS_REGION with an invalid value", code = "InvalidConfiguration",
    text = { 'invalid region "eu west 1" from AWS_REGION (expected something like us-east-1)' },
    f = function() return client("macie2", { region = false, env = env{ AWS_REGION = "eu west 1" } }):list_invitations{} end },
  { "api", "an ftp:// endpoint", code = "InvalidConfiguration",
    text = { 'endpoint URL "ftp://127.0.0.1:21" from client option endpoint_url is not an http(s)://host[:port][/path] URL' },
    f = function() return client("macie2", { endpoint = "ftp://127.0.0.1:21" }):list_invitations{} end },
  { "api", "an endpoint without a scheme", code = "InvalidConfiguration",
    text = { 'endpoint URL "127.0.0.1:{PORT}" from client option endpoint_url is not an http(s)://host[:port][/path] URL' },
    f = function() return client("macie2", { endpoint = "127.0.0.1:" .. s.port }):list_invitations{} end },
  { "api", "an endpoint with user:password@ (the password is not echoed)", code = "InvalidConfiguration",
    text = { "endpoint URL from client option endpoint_url must not contain user information (user:password@host)" },
    absent = { "hunter2" },
    f = function()
      return client("macie2", { endpoint = "http://admin:hunter2@127.0.0.1:" .. s.port }):list_invitations{}
    end },
  { "api", "parameters whose __index answers a valid list to validation and a hostile one after",
    code = "ValidationError", text = { "AccountIds" },
    f = function()
      local reads = 0
      local params = setmetatable({}, { __index = function(_, k)
        if k ~= "AccountIds" then return nil end
        reads = reads + 1
        return reads == 1 and { "123456789012" } or { "1111\0 DROP" }
      end })
      return client("guardduty"):decline_invitations(params)
    end },
  { "api", "an empty endpoint option (it used to mean the AWS endpoint)", code = "InvalidConfiguration",
    text = { "client option endpoint must be a URL like https://host, not empty" },
    f = function() return client("macie2", { endpoint = "" }):list_invitations{} end },
  { "api", "an empty endpoint_url option (it used to mean the AWS endpoint)", code = "InvalidConfiguration",
    text = { "client option endpoint_url must be a URL like https://host, not empty" },
    f = function() return client("guardduty", { endpoint = false, endpoint_url = "" }):list_detectors{} end },
  { "api", "an empty endpoint option beside AWS_ENDPOINT_URL (not a fall-through to it)", code = "InvalidConfiguration",
    text = { "client option endpoint must be a URL like https://host, not empty" },
    f = function()
      return client("securityhub", { endpoint = "", env = env{ AWS_ENDPOINT_URL = "{EP}" } }):list_invitations{}
    end },
  { "api", "an endpoint with a query string", code = "InvalidConfiguration",
    text = { 'endpoint URL "{EP}/?x=1" from client option endpoint_url is not an http(s)://host[:port][/path] URL' },
    f = function() return client("guardduty", { endpoint = s.endpoint .. "/?x=1" }):list_detectors{} end },
  { "api", "an endpoint with a fragment", code = "InvalidConfiguration",
    text = { 'endpoint URL "{EP}#frag" from client option endpoint_url is not an http(s)://host[:port][/path] URL' },
    f = function() return client("macie2", { endpoint = s.endpoint .. "#frag" }):list_invitations{} end },
  { "api", "an endpoint with port 99999", code = "InvalidConfiguration",
    text = { 'endpoint URL "http://127.0.0.1:99999" from client option endpoint_url: the port must be 1-65535' },
    f = function() return client("macie2", { endpoint = "http://127.0.0.1:99999" }):list_invitations{} end },
  { "api", "an endpoint with a space in its path", code = "InvalidConfiguration",
    text = { 'endpoint URL "{EP}/a b" from client option endpoint_url must not contain spaces or control characters' },
    f = function() return client("macie2", { endpoint = s.endpoint .. "/a b" }):list_invitations{} end },
  { "api", "an endpoint with CR LF and a header after it (header injection)", code = "InvalidConfiguration",
    text = { "from client option endpoint_url must not contain spaces or control characters" },
    f = function() return client("macie2", { endpoint = s.endpoint .. "/\r\nX-Injected: 1" }):list_invitations{} end },
  { "api", "plain http:// to a host that is not loopback", code = "InvalidConfiguration",
    text = { "endpoint URL http://invite.example from client option endpoint_url uses plain http:// to a non-loopback host" },
    f = function() return client("macie2", { endpoint = "http://invite.example" }):list_invitations{} end },
  { "api", "AWS_ENDPOINT_URL that is not a URL", code = "InvalidConfiguration",
    text = { 'endpoint URL "localhost" from AWS_ENDPOINT_URL is not an http(s)://host[:port][/path] URL' },
    f = function() return client("macie2", { endpoint = false, env = env{ AWS_ENDPOINT_URL = "localhost" } }):list_invitations{} end },
  { "api", "AWS_ENDPOINT_URL_GUARDDUTY with a bad port", code = "InvalidConfiguration",
    text = { 'endpoint URL "http://127.0.0.1:0" from AWS_ENDPOINT_URL_GUARDDUTY: the port must be 1-65535' },
    f = function()
      return client("guardduty", { endpoint = false, env = env{ AWS_ENDPOINT_URL_GUARDDUTY = "http://127.0.0.1:0" } })
        :list_detectors{}
    end },
  { "api", "AWS_USE_FIPS_ENDPOINT=maybe", code = "InvalidConfiguration",
    text = { 'use_fips_endpoint from AWS_USE_FIPS_ENDPOINT: expected true or false, got "maybe"' },
    f = function() return client("macie2", { endpoint = false, env = env{ AWS_USE_FIPS_ENDPOINT = "maybe" } }):list_invitations{} end },
  { "api", "max_attempts 0", code = "ConfigError", text = { "max_attempts must be an integer >= 1, got 0" },
    f = function() return client("macie2", { max_attempts = 0 }):list_invitations{} end },
  { "api", "AWS_MAX_ATTEMPTS=lots", code = "ConfigError",
    text = { 'max_attempts from AWS_MAX_ATTEMPTS must be a whole number >= 1, got "lots"' },
    f = function()
      return client("macie2", { max_attempts = false, env = env{ AWS_MAX_ATTEMPTS = "lots" } }):list_invitations{}
    end },
  { "api", "AWS_RETRY_MODE=turbo (it used to be ignored)", code = "ConfigError",
    text = { 'retry_mode from AWS_RETRY_MODE must be legacy, standard or adaptive, got "turbo"' },
    f = function() return client("macie2", { env = env{ AWS_RETRY_MODE = "turbo" } }):list_invitations{} end },
  { "api", "a profile with retry_mode = fast", code = "ConfigError",
    text = { 'retry_mode from profile default key retry_mode must be legacy, standard or adaptive, got "fast"' },
    f = function() return client("macie2", { env = env{ AWS_CONFIG_FILE = "{TMP}/bad_retry.ini" } }):list_invitations{} end },
  { "api", "AWS_ACCESS_KEY_ID without AWS_SECRET_ACCESS_KEY", code = "PartialCredentials",
    text = { "environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not" },
    f = function()
      return client("macie2", { credentials = false, env = env{ AWS_ACCESS_KEY_ID = "AKIAEXAMPLE" } }):list_invitations{}
    end },
  { "api", "AWS_CREDENTIAL_EXPIRATION that is not a time", code = "InvalidConfiguration",
    text = { "environment: AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time" },
    f = function()
      return client("macie2", { credentials = false, env = env{ AWS_ACCESS_KEY_ID = prod.access_key_id,
        AWS_SECRET_ACCESS_KEY = prod.secret_access_key, AWS_CREDENTIAL_EXPIRATION = "tomorrow" } }):list_invitations{}
    end },
  { "api", "container credentials over plain http:// to a remote host", code = "InvalidConfiguration",
    text = { "AWS_CONTAINER_CREDENTIALS_FULL_URI host example.com is not allowed over http://" },
    f = function()
      return client("macie2", { credentials = false,
        env = env{ AWS_CONTAINER_CREDENTIALS_FULL_URI = "http://example.com/creds" } }):list_invitations{}
    end },
  { "api", "a web identity token file that does not exist", code = "InvalidConfiguration",
    text = { "cannot read the web identity token file {TMP}/no-token: file not found" },
    f = function()
      return client("macie2", { credentials = false, env = env{ AWS_WEB_IDENTITY_TOKEN_FILE = "{TMP}/no-token",
        AWS_ROLE_ARN = "arn:aws:iam::222222222222:role/Auditor" } }):list_invitations{}
    end },
  { "api", "a credentials table without a secret", code = "NoCredentialsError",
    text = { "credentials table needs access_key_id and secret_access_key" },
    f = function() return client("macie2", { credentials = { access_key_id = prod.access_key_id } }):list_invitations{} end },
  ------------------------------------------------------------------------------------------------
  -- Profiles and shared files (AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE)
  ------------------------------------------------------------------------------------------------
  { "api", "AWS_CONFIG_FILE: a section header without ']'", code = "InvalidConfiguration",
    text = { "{TMP}/no_bracket.ini:1: section header is missing its closing ']'" },
    f = function() return client("macie2", { env = env{ AWS_CONFIG_FILE = "{TMP}/no_bracket.ini" } }):list_invitations{} end },
  { "api", "AWS_CONFIG_FILE: a key before any section", code = "InvalidConfiguration",
    text = { "{TMP}/before_section.ini:1: a `key = value` line appears before any [section]" },
    f = function() return client("macie2", { env = env{ AWS_CONFIG_FILE = "{TMP}/before_section.ini" } }):list_invitations{} end },
  { "api", "AWS_CONFIG_FILE: a key set twice", code = "InvalidConfiguration",
    text = { "{TMP}/dup_key.ini:3: this key is already set on line 2, in the same section" },
    f = function() return client("macie2", { env = env{ AWS_CONFIG_FILE = "{TMP}/dup_key.ini" } }):list_invitations{} end },
  { "api", "AWS_SHARED_CREDENTIALS_FILE: a junk line", code = "InvalidConfiguration",
    text = { "{TMP}/junk.ini:3: expected `key = value`, a [section] or a comment" },
    f = function()
      return client("macie2", { env = env{ AWS_SHARED_CREDENTIALS_FILE = "{TMP}/junk.ini" } }):list_invitations{}
    end },
  { "api", "AWS_SHARED_CREDENTIALS_FILE: a section twice", code = "InvalidConfiguration",
    text = { "{TMP}/dup_section.ini:3: this section already appeared on line 1" },
    f = function()
      return client("macie2", { env = env{ AWS_SHARED_CREDENTIALS_FILE = "{TMP}/dup_section.ini" } }):list_invitations{}
    end },
  { "api", "AWS_SHARED_CREDENTIALS_FILE: a session token pasted before any section (not echoed)",
    code = "InvalidConfiguration", absent = PASTED,
    text = { "{TMP}/bare_token.ini:1: a `key = value` line appears before any [section]" },
    f = function()
      return client("macie2", { credentials = false, env = env{ AWS_SHARED_CREDENTIALS_FILE = "{TMP}/bare_token.ini" } })
        :list_invitations{}
    end },
  { "api", "AWS_CONFIG_FILE: a session token with a colon, twice (not echoed)", code = "InvalidConfiguration",
    absent = PASTED, text = { "{TMP}/colon_token.ini:3: this key is already set on line 2, in the same section" },
    f = function() return client("macie2", { env = env{ AWS_CONFIG_FILE = "{TMP}/colon_token.ini" } }):list_invitations{} end },
  { "api", "a profile option naming a missing profile", code = "ProfileNotFound",
    text = { "the config profile (ghost) could not be found in /dev/null or /dev/null" },
    f = function() return client("macie2", { profile = "ghost", env = env() }):list_invitations{} end },
  { "api", "AWS_PROFILE naming a missing profile, no region given", code = "ProfileNotFound",
    text = { "the config profile (ghost) could not be found" },
    f = function() return client("guardduty", { region = false, env = env{ AWS_PROFILE = "ghost" } }):list_detectors{} end },
  { "api", "a profile whose region is us_east_1", code = "InvalidConfiguration",
    text = { 'invalid region "us_east_1" from profile default key region (expected something like us-east-1)' },
    f = function() return client("macie2", { region = false, env = env{ AWS_CONFIG_FILE = "{TMP}/bad_region.ini" } }):list_invitations{} end },
  { "api", "a profile whose endpoint_url is ftp://", code = "InvalidConfiguration",
    text = { 'endpoint URL "ftp://127.0.0.1" from profile default endpoint_url is not an http(s)://host[:port][/path] URL' },
    f = function()
      return client("macie2", { endpoint = false, env = env{ AWS_CONFIG_FILE = "{TMP}/bad_endpoint.ini" } }):list_invitations{}
    end },
  { "api", "a profile naming a services section that does not exist", code = "InvalidConfiguration",
    text = { 'profile default uses the services section "nope", which does not exist in {TMP}/bad_services.ini' },
    f = function()
      return client("macie2", { endpoint = false, env = env{ AWS_CONFIG_FILE = "{TMP}/bad_services.ini" } }):list_invitations{}
    end },
  { "api", "source_profile references in a loop", code = "InvalidConfiguration",
    text = { "infinite loop in source_profile references: a -> b -> a" },
    f = function()
      return client("macie2", { credentials = false, env = env{ AWS_PROFILE = "a", AWS_CONFIG_FILE = "{TMP}/loop.ini" } })
        :list_invitations{}
    end },
  ------------------------------------------------------------------------------------------------
  -- invite.run options and policies
  ------------------------------------------------------------------------------------------------
  { "raise", "invite.run with a misspelt option (it used to be ignored and the sweep ran)",
    text = { "invite.run: unknown option 'regoins' (did you mean 'regions'?)" },
    f = function() return run{ policy = keep, regoins = { "eu-west-1" } } end },
  { "raise", "invite.run with a string instead of options",
    text = { "invite.run: expected a table of options" },
    f = function() return require("invite").run("examples/policy.lua") end },
  { "raise", "invite.run without a policy",
    text = { "invite.run: policy: a policy must be a function or a table with a decide function, got nil" },
    f = function() return run{} end },
  { "raise", "a policy table without decide (missing function)",
    text = { "invite.run: policy: policy table has no decide function (decide = function(inv) ... end)" },
    f = function() return run{ policy = { services = { "macie2" } } } end },
  { "raise", "a policy table with an unknown field",
    text = { "invite.run: policy: unknown policy field 'desicion'" },
    f = function() return run{ policy = { decide = keep, desicion = "decline" } } end },
  { "raise", "a policy table whose regions is a number",
    text = { "invite.run: policy: policy field 'regions' must be \"all\" or a list of region names, got number" },
    f = function() return run{ policy = { decide = keep, regions = 5 }, regions = false } end },
  { "raise", "a policy table whose role is empty",
    text = { "invite.run: policy: policy field 'role' must be a role name or an ARN template with {account}, got ''" },
    f = function() return run{ policy = { decide = keep, accounts = { "123456789012" }, role = "" } } end },
  { "raise", "a policy that is a string",
    text = { "a policy must be a function or a table with a decide function, got string" },
    f = function() return run{ policy = "decline" } end },
  { "raise", "invite.run: regions missing",
    text = { 'invite.run: regions is required (a list, "all" or "enabled")' },
    f = function() return require("invite").run{ policy = keep, services = { "macie2" }, endpoint = s.endpoint } end },
  { "raise", "invite.run: a region name with an underscore",
    text = { "invite.run: regions[1] = 'us_east_1': not a region name like us-east-1; did you mean 'us-east-1'?" },
    f = function() return run{ policy = keep, regions = { "us_east_1" } } end },
  { "raise", "invite.run: an unknown service",
    text = { "invite.run: services[1] = 's3': unknown service (macie2, securityhub, guardduty, detective, organizations, ram)" },
    f = function() return run{ policy = keep, services = { "s3" } } end },
  { "raise", "invite.run: a 4-digit account to sweep",
    text = { "invite.run: accounts[1] = 1234: account IDs are 12-digit strings" },
    f = function() return run{ policy = keep, accounts = { "1234" }, role = "Auditor" } end },
  { "raise", "invite.run: accounts without a role",
    text = { "invite.run: accounts needs role (a role name, or an ARN template with {account})" },
    f = function() return run{ policy = keep, accounts = { "123456789012" } } end },
  { "raise", "invite.run: an empty endpoint (it used to mean the AWS endpoints)",
    text = { "invite.run: endpoint must be a URL like https://host, not empty" },
    f = function() return run{ policy = keep, endpoint = "" } end },
  { "raise", "invite.run: an empty sts_endpoint",
    text = { "invite.run: sts_endpoint must be a URL like https://host, not empty" },
    f = function() return run{ policy = keep, accounts = { "123456789012" }, role = "Auditor", sts_endpoint = "" } end },
  { "raise", "invite.run: concurrency 0",
    text = { "invite.run: concurrency must be an integer >= 1" },
    f = function() return run{ policy = keep, concurrency = 0 } end },
  { "raise", "invite.run: an audit log in a directory that does not exist",
    text = { "invite.run: cannot open audit log: {TMP}/no/such/dir/audit.jsonl: No such file or directory" },
    f = function() return run{ policy = keep, apply = true, audit_log = tmp .. "/no/such/dir/audit.jsonl" } end },
  { "policy", "a policy returning an unknown decision",
    text = { "policy returned an invalid action 'reject' (expected keep, decline, delete, decline_and_delete or accept)" },
    policy = function() return "reject" end },
  { "policy", "a policy returning a number",
    text = { "policy returned an invalid action number" }, policy = function() return 1 end },
  { "policy", "a policy returning nothing",
    text = { "policy returned an invalid action nil" }, policy = function() end },
  { "policy", "a policy raising an error",
    text = { "policy error: ", "no rule for this inviter" },
    policy = function() error("no rule for this inviter") end },
  { "policy", "a policy giving a table as the reason",
    text = { "policy returned a table reason for 'decline' (a reason must be a string)" },
    policy = function() return "decline", { why = "x" } end },
  { "policy", "a policy accepting two invitations in one scope",
    text = { "invitations in one scope; at most one administrator can be accepted" },
    policy = function() return "accept" end },
  ------------------------------------------------------------------------------------------------
  -- CLI
  ------------------------------------------------------------------------------------------------
  { "cli", "an unknown command", args = { "frobnicate" }, exit = 2,
    text = { "invite: error: unknown command 'frobnicate'" } },
  { "cli", "an unknown flag", args = { "list", "--regions", "us-east-1", "--bogus", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: error: unknown option '--bogus'" } },
  { "cli", "a flag missing its value", args = { "list", "--endpoint-url", "{EP}", "--regions" },
    exit = 2, text = { "invite: error: option '--regions' requires an argument" } },
  { "cli", "--regions us_east_1", args = { "list", "--regions", "us_east_1", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: --regions[1] = 'us_east_1': not a region name like us-east-1; did you mean 'us-east-1'?" } },
  { "cli", "--regions with only a comma", args = { "list", "--regions", ",", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: --regions: give at least one region, 'all' or 'enabled'" } },
  { "cli", "--regions mixing all and a region", args = { "list", "--regions", "all,us-east-1", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: --regions: 'all' stands alone, not in a list of regions" } },
  { "cli", "count --regions with a bad region (it used to print a per-row error and exit 1)",
    args = { "count", "--regions", "us-east-1,eu_west_1", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: --regions[2] = 'eu_west_1': not a region name like us-east-1; did you mean 'eu-west-1'?" } },
  { "cli", "--regions given twice (conflict)",
    args = { "list", "--regions", "us-east-1", "--regions", "eu-west-1", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: error: option '--regions' must be used at most 1 time" } },
  { "cli", "--services with an unknown service",
    args = { "list", "--regions", "us-east-1", "--services", "macie2,s3", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: invite.run: services[2] = 's3': unknown service (macie2, securityhub, guardduty, detective, organizations, ram)" } },
  { "cli", "--services empty", args = { "list", "--regions", "us-east-1", "--services", "", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: invite.run: services must be a non-empty list of strings" } },
  { "cli", "plan without a policy file", args = { "plan", "--regions", "us-east-1", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: error: missing argument 'policy'" } },
  { "cli", "count --services with an unknown service",
    args = { "count", "--regions", "us-east-1", "--services", "inspector", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: unknown service 'inspector' (macie2, securityhub, guardduty, detective, organizations, ram)" } },
  { "cli", "--concurrency 0", args = { "list", "--regions", "us-east-1", "--concurrency", "0", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: --concurrency must be a whole number >= 1" } },
  { "cli", "--concurrency that is not a number",
    args = { "list", "--regions", "us-east-1", "--concurrency", "lots", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: --concurrency must be a whole number >= 1, got 'lots'" } },
  { "cli", "--concurrency -1 (it used to be taken for an unknown option '-1')",
    args = { "list", "--regions", "us-east-1", "--concurrency", "-1", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: --concurrency must be a whole number >= 1, got -1" } },
  { "cli", "--concurrency=-1", args = { "list", "--regions", "us-east-1", "--concurrency=-1", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: --concurrency must be a whole number >= 1, got -1" } },
  { "cli", "apply --concurrency -0.5",
    args = { "apply", "examples/policy.lua", "--regions", "us-east-1", "--concurrency", "-0.5", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: --concurrency must be a whole number >= 1, got -0.5" } },
  { "cli", "count --concurrency -2 (a negative number before the other flags)",
    args = { "count", "--concurrency", "-2", "--regions", "us-east-1", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: --concurrency must be a whole number >= 1, got -2" } },
  { "cli", "apply --audit-log in a directory that does not exist",
    args = { "apply", "examples/policy.lua", "--regions", "us-east-1", "--endpoint-url", "{EP}", "--audit-log",
             "{TMP}/no/such/dir/audit.jsonl" },
    exit = 2, text = { "invite: invite.run: cannot open audit log: {TMP}/no/such/dir/audit.jsonl: No such file or directory" } },
  { "cli", "--accounts with a short ID",
    args = { "list", "--regions", "us-east-1", "--accounts", "123", "--role", "Auditor", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: invite.run: accounts[1] = 123: account IDs are 12-digit strings" } },
  { "cli", "--accounts without --role (conflicting options)",
    args = { "list", "--regions", "us-east-1", "--accounts", "123456789012", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: --accounts needs --role" } },
  { "cli", "--endpoint-url ftp:// (it used to fail per scope with exit 1)",
    args = { "list", "--regions", "us-east-1", "--endpoint-url", "ftp://127.0.0.1:{PORT}" },
    exit = 2, text = { 'invite: endpoint URL "ftp://127.0.0.1:{PORT}" from --endpoint-url is not an http(s)://host[:port][/path] URL' } },
  { "cli", "--endpoint-url ''", args = { "list", "--regions", "us-east-1", "--endpoint-url", "" },
    exit = 2, text = { "invite: --endpoint-url must be a URL like https://host, not empty" } },
  { "cli", "--endpoint-url with a query string",
    args = { "decline", "--service", "macie2", "--region", "us-east-1", "--endpoint-url", "{EP}/?a=b", "222222222222" },
    exit = 2, text = { 'invite: endpoint URL "{EP}/?a=b" from --endpoint-url is not an http(s)://host[:port][/path] URL' } },
  { "cli", "decline --endpoint-url with port 99999 (it used to reach libcurl)",
    args = { "decline", "--service", "guardduty", "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:99999",
             "222222222222" },
    exit = 2, text = { 'invite: endpoint URL "http://127.0.0.1:99999" from --endpoint-url: the port must be 1-65535' } },
  { "cli", "decline an 11-digit account ID",
    args = { "decline", "--service", "guardduty", "--region", "us-east-1", "--endpoint-url", "{EP}", "12345678901" },
    exit = 2, text = { 'invite: guardduty DeclineInvitations: ValidationError: guardduty.decline_invitations: invalid parameters: AccountIds[1]: must be a 12-digit account ID string, got "12345678901"' } },
  { "cli", "decline a 13-digit account ID after a valid one",
    args = { "decline", "--service", "macie2", "--region", "us-east-1", "--endpoint-url", "{EP}", "222222222222",
             "2222222222223" },
    exit = 2, text = { 'accountIds[2]: must be a 12-digit account ID string, got "2222222222223"' } },
  { "cli", "delete an account ID of full-width digits (unicode)",
    args = { "delete", "--service", "securityhub", "--region", "us-east-1", "--endpoint-url", "{EP}", "１２３４５６７８９０１２" },
    exit = 2, text = { 'AccountIds[1]: must be a 12-digit account ID string, got "１２３４５６７８９０１２"' } },
  -- lua5.1's own interpreter refuses more than about 7,990 script arguments (LUAI_MAXCSTACK,
  -- "too many arguments to script"): there the list is 7,000 long; any length goes on stdin (next)
  { "cli", "decline " .. (interp.LUA == "lua5.1" and "7,000" or "10,000") .. " IDs with one bad among them",
    args = function()
      local a = { "decline", "--service", "guardduty", "--region", "us-east-1", "--endpoint-url", "{EP}" }
      for _, id in ipairs(ids(interp.LUA == "lua5.1" and 7000 or 10000, 4321, "43214321432")) do a[#a + 1] = id end
      return a
    end,
    exit = 2, text = { 'AccountIds[4321]: must be a 12-digit account ID string, got "43214321432"' } },
  { "cli", "decline 10,000 IDs on standard input (-) with one bad among them",
    args = { "decline", "--service", "guardduty", "--region", "us-east-1", "--endpoint-url", "{EP}", "-" },
    stdin = table.concat(ids(10000, 9876, "98769876987"), "\n") .. "\n",
    exit = 2, text = { 'AccountIds[9876]: must be a 12-digit account ID string, got "98769876987"' } },
  { "cli", "decline with - twice (standard input read once)",
    args = { "decline", "--service", "guardduty", "--region", "us-east-1", "--endpoint-url", "{EP}", "-", "-" },
    stdin = "111122223333\n",
    exit = 2, text = { "account IDs: - (standard input) given twice" } },
  { "cli", "decline - with nothing on standard input",
    args = { "decline", "--service", "guardduty", "--region", "us-east-1", "--endpoint-url", "{EP}", "-" },
    stdin = " \n\n",
    exit = 2, text = { "account IDs: standard input (-) held none" } },
  { "cli", "decline without account IDs",
    args = { "decline", "--service", "guardduty", "--region", "us-east-1", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: error: missing argument 'ids'" } },
  { "cli", "decline without --service", args = { "decline", "--region", "us-east-1", "--endpoint-url", "{EP}", "222222222222" },
    exit = 2, text = { "invite: error: missing option '--service'" } },
  { "cli", "decline --service s3",
    args = { "decline", "--service", "s3", "--region", "us-east-1", "--endpoint-url", "{EP}", "222222222222" },
    exit = 2, text = { "invite: --service 's3': unknown service (macie2, securityhub, guardduty, detective, organizations, ram)" } },
  { "cli", "decline --service given twice (conflict; it used to take the last)",
    args = { "decline", "--service", "guardduty", "--service", "macie2", "--region", "us-east-1", "--endpoint-url", "{EP}",
             "222222222222" },
    exit = 2, text = { "invite: error: option '--service' must be used 1 time" } },
  { "cli", "decline --region US_EAST_1 (it used to be sent)",
    args = { "decline", "--service", "guardduty", "--region", "US_EAST_1", "--endpoint-url", "{EP}", "222222222222" },
    exit = 2, text = { "invite: --region 'US_EAST_1': not a region name like us-east-1; did you mean 'us-east-1'?" } },
  { "cli", "plan with a policy file that does not exist",
    args = { "plan", "{TMP}/missing.lua", "--regions", "us-east-1", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: cannot load policy cannot open {TMP}/missing.lua" } },
  { "cli", "plan with a policy file with a syntax error (file and line)",
    args = { "plan", "{TMP}/syntax.lua", "--regions", "us-east-1", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: cannot load policy {TMP}/syntax.lua:3:" } },
  { "cli", "plan with a policy file that raises while loading",
    args = { "plan", "{TMP}/raises.lua", "--regions", "us-east-1", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: policy {TMP}/raises.lua failed while loading: {TMP}/raises.lua:2: no policy here" } },
  { "cli", "plan with a policy file returning a number",
    args = { "plan", "{TMP}/number.lua", "--regions", "us-east-1", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: {TMP}/number.lua: a policy must be a function or a table with a decide function, got number" } },
  { "cli", "plan with a policy table without decide (missing function)",
    args = { "plan", "{TMP}/nodecide.lua", "--regions", "us-east-1", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: {TMP}/nodecide.lua: policy table has no decide function" } },
  { "cli", "plan with a policy table with an unknown field",
    args = { "plan", "{TMP}/unknownfield.lua", "--regions", "us-east-1", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: {TMP}/unknownfield.lua: unknown policy field 'region'" } },
  { "cli", "plan with a policy file naming an unknown service",
    args = { "plan", "{TMP}/badservices.lua", "--regions", "us-east-1", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: {TMP}/badservices.lua: policy field 'services' must be a list of services (macie2, securityhub, guardduty, detective, organizations, ram), got 's3' at [2]" } },
  { "cli", "plan with a policy whose handshake_actions is a string, not a list",
    args = { "plan", "{TMP}/badgate.lua", "--regions", "us-east-1", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: {TMP}/badgate.lua: policy field 'handshake_actions' must be a list of handshake action types (INVITE, ENABLE_ALL_FEATURES" } },
  { "cli", "plan with a policy whose handshake_actions has a typo (the closest named)",
    args = { "plan", "{TMP}/typogate.lua", "--regions", "us-east-1", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: {TMP}/typogate.lua: policy field 'handshake_actions'[2] = 'ENABLE_ALL_FEATURE': not one of INVITE, ENABLE_ALL_FEATURES, APPROVE_ALL_FEATURES, ADD_ORGANIZATIONS_SERVICE_LINKED_ROLE, TRANSFER_RESPONSIBILITY (did you mean 'ENABLE_ALL_FEATURES'?)" } },
  { "cli", "accept --service s3",
    args = { "accept", "--service", "s3", "--region", "us-east-1", "--endpoint-url", "{EP}", "222222222222" },
    exit = 2, text = { "invite: --service 's3': unknown service (macie2, securityhub, guardduty, detective, organizations, ram)" } },
  { "cli", "accept without the invitation",
    args = { "accept", "--service", "ram", "--region", "us-east-1", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: error: missing argument 'id'" } },
  { "cli", "decline --service detective with a malformed graph ARN (nothing sent)",
    args = { "decline", "--service", "detective", "--region", "us-east-1", "--endpoint-url", "{EP}", "arn:aws:detective:x" },
    exit = 2, text = { "GraphArn: must be a behavior graph ARN" } },
  { "cli", "plan with a policy file whose accounts are numbers",
    args = { "plan", "{TMP}/numaccounts.lua", "--regions", "us-east-1", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: {TMP}/numaccounts.lua: policy field 'accounts' must be a list of 12-digit account ID strings, got a number at [1]" } },
  { "cli", "apply with a policy deciding 'reject': exit 1, nothing mutating sent",
    args = { "apply", "{TMP}/reject.lua", "--services", "macie2", "--regions", "us-east-1", "--endpoint-url", "{EP}" },
    exit = 1, reads = true,
    text = { "error: macie2 us-east-1 222222222222: policy returned an invalid action 'reject' (expected keep, decline, delete, decline_and_delete or accept)" } },
  { "cli", "--profile naming a missing profile (it used to fail per scope with exit 1)",
    args = { "plan", "examples/policy.lua", "--profile", "ghost", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: --profile ghost: the config profile (ghost) could not be found in /dev/null or /dev/null" } },
  { "cli", "AWS_PROFILE naming a missing profile",
    args = { "decline", "--service", "macie2", "--region", "us-east-1", "--endpoint-url", "{EP}", "222222222222" },
    env = { AWS_PROFILE = "ghost" },
    exit = 2, text = { "invite: the config profile (ghost) could not be found" } },
  { "cli", "AWS_CONFIG_FILE pointing at broken INI",
    args = { "list", "--regions", "us-east-1", "--endpoint-url", "{EP}" }, env = { AWS_CONFIG_FILE = "{TMP}/dup_key.ini" },
    exit = 2, text = { "invite: {TMP}/dup_key.ini:3: this key is already set on line 2, in the same section" } },
  { "cli", "AWS_SHARED_CREDENTIALS_FILE pointing at broken INI",
    args = { "delete", "--service", "guardduty", "--region", "us-east-1", "--endpoint-url", "{EP}", "222222222222" },
    env = { AWS_SHARED_CREDENTIALS_FILE = "{TMP}/no_bracket.ini" },
    exit = 2, text = { "invite: {TMP}/no_bracket.ini:1: section header is missing its closing ']'" } },
  { "cli", "AWS_SHARED_CREDENTIALS_FILE with a session token pasted before any section (not echoed)",
    args = { "list", "--regions", "us-east-1", "--endpoint-url", "{EP}" },
    env = { AWS_SHARED_CREDENTIALS_FILE = "{TMP}/bare_token.ini" }, absent = PASTED,
    exit = 2, text = { "invite: {TMP}/bare_token.ini:1: a `key = value` line appears before any [section]" } },
  { "cli", "AWS_CONFIG_FILE with a token line with a colon, twice (not echoed)",
    args = { "list", "--regions", "us-east-1", "--endpoint-url", "{EP}" },
    env = { AWS_CONFIG_FILE = "{TMP}/colon_token.ini" }, absent = PASTED,
    exit = 2, text = { "invite: {TMP}/colon_token.ini:3: this key is already set on line 2, in the same section" } },
  { "cli", "AWS_CONFIG_FILE with a token in a section header without ']' (not echoed)",
    args = { "list", "--regions", "us-east-1", "--endpoint-url", "{EP}" },
    env = { AWS_CONFIG_FILE = "{TMP}/header_token.ini" }, absent = PASTED,
    exit = 2, text = { "invite: {TMP}/header_token.ini:3: section header is missing its closing ']'" } },
  { "cli", "no region anywhere",
    args = { "list", "--endpoint-url", "{EP}" },
    exit = 2, text = { "invite: no region: pass --regions, set one in the policy, or set AWS_REGION" } },
  ------------------------------------------------------------------------------------------------
  -- The simulator refuses bad fixtures and flags
  ------------------------------------------------------------------------------------------------
  { "sim", "a fixture file that is not JSON", fixture = "accounts: [222222222222]\n",
    text = { "invite sim: {TMP}/fixture.json: invalid JSON: " } },
  { "sim", "an empty fixture file", fixture = "", text = { "invite sim: {TMP}/fixture.json: invalid JSON: " } },
  { "sim", "a fixture that is a JSON array", fixture = "[1, 2]",
    text = { "invite sim: {TMP}/fixture.json: (top level): must be an object" } },
  { "sim", "a fixture without accounts", fixture = '{"invitations": []}',
    text = { "invite sim: {TMP}/fixture.json: accounts: is required (an array of at least one account)" } },
  { "sim", "a fixture whose accounts is an object", fixture = '{"accounts": {"id": "222222222222"}}',
    text = { "{TMP}/fixture.json: accounts: must be an array" } },
  { "sim", "a fixture with an unknown top-level field", fixture = '{"acounts": [], "accounts": [{"id": "222222222222"}]}',
    text = { "{TMP}/fixture.json: acounts: unknown field (allowed: accounts, administrators, detectors, disabled, invitations, organization, sessions)" } },
  { "sim", "a fixture with an 11-digit account ID", fixture = '{"accounts": [{"id": "22222222222"}]}',
    text = { "{TMP}/fixture.json: accounts[0].id: must be a 12-digit account ID string" } },
  { "sim", "a fixture with an account ID as a number", fixture = '{"accounts": [{"id": 222222222222}]}',
    text = { "{TMP}/fixture.json: accounts[0].id: must be a 12-digit account ID string" } },
  { "sim", "a fixture with an access key not starting with AKIA",
    fixture = '{"accounts": [{"id": "222222222222", "access_keys": [{"id": "XKIAEXAMPLE000000001", "secret": "s"}]}]}',
    text = { "{TMP}/fixture.json: accounts[0].access_keys[0].id: must start with AKIA followed by capital letters or digits" } },
  { "sim", "a fixture with a bad invitation (service, self-invite, time)",
    fixture = '{"accounts": [{"id": "222222222222"}], "invitations": [{"service": "s3", "region": "us-east-1", '
      .. '"account": "222222222222", "inviter": "222222222222", "id": "i", "invited_at": "yesterday"}]}',
    text = { "{TMP}/fixture.json: invitations[0].service: must be one of macie2, securityhub, guardduty",
             "{TMP}/fixture.json: invitations[0].inviter: an account cannot invite itself",
             "{TMP}/fixture.json: invitations[0].invited_at: must be an ISO-8601 UTC time" } },
  { "sim", "a fixture with a duplicate account",
    fixture = '{"accounts": [{"id": "222222222222"}, {"id": "222222222222"}]}',
    text = { "{TMP}/fixture.json: accounts[1].id: duplicate account 222222222222" } },
  { "sim", "a fixture file that does not exist", args = { "sim", "--fixtures", "{TMP}/nope.json", "--port", "0" },
    text = { "invite sim: cannot read fixture file: {TMP}/nope.json: No such file or directory" } },
  { "sim", "a fixture path that is a directory", args = { "sim", "--fixtures", "{TMP}", "--port", "0" },
    text = { "invite sim: cannot read fixture file: {TMP}: Is a directory" } },
  { "sim", "--port 70000", args = { "sim", "--fixtures", "examples/fixtures/org.json", "--port", "70000" },
    text = { "invite: error: --port must be a whole number 0-65535, got 70000" } },
  { "sim", "--port -1 (it used to be taken for an unknown option '-1')",
    args = { "sim", "--fixtures", "examples/fixtures/org.json", "--port", "-1" },
    text = { "invite: error: --port must be a whole number 0-65535, got -1" } },
  { "sim", "--port=-80", args = { "sim", "--fixtures", "examples/fixtures/org.json", "--port=-80" },
    text = { "invite: error: --port must be a whole number 0-65535, got -80" } },
  { "sim", "--seed -1.5", args = { "sim", "--fixtures", "examples/fixtures/org.json", "--seed", "-1.5" },
    text = { "invite: error: --seed must be a whole number, got -1.5" } },
  { "sim", "--host that is not loopback", args = { "sim", "--fixtures", "examples/fixtures/org.json", "--host", "0.0.0.0" },
    text = { "invite sim: refusing to listen on 0.0.0.0: the simulator serves loopback only" } },
  { "sim", "--faults with an unknown word",
    args = { "sim", "--fixtures", "examples/fixtures/org.json", "--port", "0", "--faults", "sometimes 503" },
    text = { "invite sim: faults: rule 1 ('sometimes 503'): unknown word 'sometimes'" } },
  { "sim", "--seed that is not a number", args = { "sim", "--fixtures", "examples/fixtures/org.json", "--seed", "x" },
    text = { "invite: error: --seed must be a whole number, got 'x'" } },
}
-- luacheck: pop

-- Files the cases refer to as {TMP}/name.
local FILES = {
  ["bad_region.ini"] = "[default]\nregion = us_east_1\n",
  ["bad_endpoint.ini"] = "[default]\nendpoint_url = ftp://127.0.0.1\n",
  ["bad_services.ini"] = "[default]\nservices = nope\n",
  ["bad_retry.ini"] = "[default]\nretry_mode = fast\n",
  ["loop.ini"] = "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/R\nsource_profile = b\n"
    .. "[profile b]\nrole_arn = arn:aws:iam::123456789012:role/R\nsource_profile = a\n",
  ["syntax.lua"] = "return function(inv)\n  if inv.account_id then\n    return 'decline' end end end\n",
  ["raises.lua"] = "-- a policy that fails while loading\nerror('no policy here')\n",
  ["number.lua"] = "return 42\n",
  ["nodecide.lua"] = "return { services = { 'macie2' } }\n",
  ["unknownfield.lua"] = "return { decide = function() return 'keep' end, region = 'us-east-1' }\n",
  ["reject.lua"] = "return function() return 'reject' end\n",
  ["badservices.lua"] = "return { decide = function() return 'keep' end, services = { 'macie2', 's3' } }\n",
  ["badgate.lua"] = "return { decide = function() return 'keep' end, handshake_actions = 'INVITE' }\n",
  ["typogate.lua"] = "return { decide = function() return 'keep' end, "
    .. "handshake_actions = { 'INVITE', 'ENABLE_ALL_FEATURE' } }\n",
  ["numaccounts.lua"] = "return { decide = function() return 'keep' end, accounts = { 222222222222 }, role = 'R' }\n",
}
for k, v in pairs(INI_BROKEN) do FILES[k .. ".ini"] = v end

-- Every request the simulator logged since the last clear; with reads_ok, only the non-mutating ones.
-- Reads sent with POST: who am I, and the scope discovery of invite.scope.
local POST_READS = { GetCallerIdentity = true }

local function sent(reads_ok)
  local out = {}
  for _, r in ipairs(s:requests()) do
    if not reads_ok or MUTATING[r.operation] or (r.method ~= "GET" and not POST_READS[r.operation]) then
      out[#out + 1] = (r.method or "?") .. " " .. (r.path or "?") .. " " .. tostring(r.operation)
    end
  end
  return out
end

local function has_all(haystack, texts, what)
  for _, t in ipairs(texts) do
    t = subst(t)
    assert(haystack:find(t, 1, true), ("%s does not contain %q; it is:\n%s"):format(what, t, haystack))
  end
end

-- Messages are one line of valid UTF-8 with no NUL byte and no secret.
local function clean(msg, what)
  assert.is_nil(msg:find("\0", 1, true), what .. " has a NUL byte")
  assert.is_nil(validate.utf8_error(msg), what .. " is not valid UTF-8")
  assert.is_nil(msg:find(prod.secret_access_key, 1, true), what .. " shows the secret key")
end

local function pass_env()
  local keep_vars = {}
  for _, k in ipairs({ "PATH", "LUA_PATH", "LUA_CPATH", "LUA_PATH_5_4", "LUA_CPATH_5_4" }) do
    local v = os.getenv(k)
    if v then keep_vars[#keep_vars + 1] = k .. "=" .. sh(v) end
  end
  return table.concat(keep_vars, " ")
end

-- Runs bin/invite with a clean environment; -> exit code, stdout, stderr.
local function invite_cli(args, extra_env, timeout, stdin)
  local vars = {
    HOME = tmp, AWS_CONFIG_FILE = "/dev/null", AWS_SHARED_CREDENTIALS_FILE = "/dev/null",
    AWS_EC2_METADATA_DISABLED = "true", AWS_ENDPOINT_URL_STS = s.endpoint, AWS_ACCESS_KEY_ID = prod.access_key_id,
    AWS_SECRET_ACCESS_KEY = prod.secret_access_key,
  }
  for k, v in pairs(extra_env or {}) do vars[k] = subst(v) end
  local parts = { "cd", sh(sim.ROOT), "&&", "env -i", pass_env() }
  for k, v in pairs(vars) do parts[#parts + 1] = k .. "=" .. sh(v) end
  parts[#parts + 1] = timeout and ("timeout " .. timeout) or ""
  parts[#parts + 1] = interp.LUA .. " bin/invite"
  for _, a in ipairs(args) do parts[#parts + 1] = sh(subst(a)) end
  local out, err, rc, script = tmp .. "/cli.out", tmp .. "/cli.err", tmp .. "/cli.rc", tmp .. "/cli.sh"
  for _, f in ipairs({ out, err, rc }) do os.remove(f) end
  if stdin then
    write(tmp .. "/cli.in", stdin)
    parts[#parts + 1] = "<" .. sh(tmp .. "/cli.in")
  else
    parts[#parts + 1] = "</dev/null"
  end
  parts[#parts + 1] = ">" .. sh(out) .. " 2>" .. sh(err) .. "; echo $? >" .. sh(rc)
  -- through a script file: one `sh -c` argument is limited to 128 kB, 10,000 IDs are more
  write(script, table.concat(parts, " ") .. "\n")
  os.execute("sh " .. sh(script))
  local code = tonumber((read(rc):match("%d+")))
  assert(code, "the CLI did not run: " .. read(err))
  return code, read(out), read(err)
end

local RUNNERS = {}

function RUNNERS.api(c)
  local ok, res, err = pcall(c.f)
  assert(ok, "raised instead of returning nil, err: " .. tostring(res))
  assert.is_nil(res, "a result came back")
  assert.is_table(err)
  assert.are.equal(c.code, err.code, tostring(err))
  assert.is_string(err.message)
  assert.is_false(err.retryable)
  assert.is_nil(err.status, "an HTTP status means something was sent")
  assert.is_nil(err.request_id, "a request ID means something was sent")
  assert.is_function(getmetatable(err).__tostring)
  local line = tostring(err)
  assert.is_nil(line:find("[\r\n]"), "tostring(err) is one line")
  has_all(line, c.text, "tostring(err)")
  for _, t in ipairs(c.absent or {}) do assert.is_nil(line:find(t, 1, true), "shows " .. t) end
  clean(line, "the error")
end

function RUNNERS.raise(c)
  local ok, msg = pcall(c.f)
  assert.is_false(ok, "did not raise")
  msg = tostring(msg)
  has_all(msg, c.text, "the error")
  assert.is_nil(msg:find("lua/invite/", 1, true), "the error blames invite's code, not the caller: " .. msg)
  clean(msg, "the error")
end

function RUNNERS.policy(c)
  local report = run{ policy = c.policy, apply = true }
  assert.are.equal(1, #report.errors, "one scope, one error")
  has_all(report.errors[1], c.text, "the scope error")
  assert.is_true(#report.invitations > 1, "the scope had invitations to decide on")
  -- nothing is acted on: a row the policy failed on is an error with its own cause, the rest skipped
  for _, r in ipairs(report.invitations) do
    assert.is_true(r.outcome == "error" or r.outcome == "skipped", r.outcome)
    if r.outcome == "error" then has_all(r.detail, c.text, "the row's own error") end
  end
  assert.are.equal(1, require("invite.runner").exit_code(report))
  clean(report.errors[1], "the scope error")
end

function RUNNERS.cli(c)
  local args = type(c.args) == "function" and c.args() or c.args
  local code, out, err = invite_cli(args, c.env, nil, c.stdin)
  assert.are.equal(c.exit, code, "exit code; stderr: " .. err)
  has_all(err, c.text, "stderr")
  if not c.reads then assert.are.equal("", out, "nothing on stdout") end
  for _, t in ipairs(c.absent or {}) do assert.is_nil((out .. err):find(t, 1, true), "shows " .. t) end
  clean(err, "stderr")
end

function RUNNERS.sim(c)
  local args = c.args
  if not args then
    write(tmp .. "/fixture.json", subst(c.fixture))
    args = { "sim", "--fixtures", "{TMP}/fixture.json", "--port", "0" }
  end
  local code, out, err = invite_cli(args, nil, 20)
  assert.are.equal(2, code, "exit code; stderr: " .. err)
  assert.are.equal("", out, "the simulator must not start (no 'listening' line)")
  has_all(err, c.text, "stderr")
  clean(err, "stderr")
end

describe("bad-input catalog", function()
  setup(function()
    s = sim.start{ fixtures = sim.FIXTURE }
    tmp = os.tmpname()
    os.remove(tmp)
    assert(0 == interp.execute("mkdir -p " .. sh(tmp)))
    for name, content in pairs(FILES) do write(tmp .. "/" .. name, content) end
  end)
  teardown(function()
    if s then s:stop() end
    if tmp then os.execute("rm -rf " .. sh(tmp)) end
  end)

  local seen = {}
  for i, c in ipairs(CASES) do
    local kind, name = c[1], c[2]
    local title = ("%02d %s: %s"):format(i, kind, name)
    assert(RUNNERS[kind], "unknown kind " .. tostring(kind))
    assert(not seen[name], "duplicate case name: " .. name)
    seen[name] = true
    it(title, function()
      s:clear_requests()
      RUNNERS[kind](c)
      -- nothing reached the simulator (policy cases and reads-only CLI cases: no mutating call)
      assert.are.same({}, sent(kind == "policy" or c.reads))
      if kind == "policy" or c.reads then
        assert.is_true(#s:requests() > 0, "the invitations were listed")
      end
    end)
  end

  -- Controls: the rules above do not refuse good input, and the request log does see what is sent.
  it("control: 10,000 valid IDs are not bad input - they go out as 200 calls of 50", function()
    s:clear_requests()
    local res, err = client("guardduty"):decline_invitations{ AccountIds = ids(10000) }
    assert.is_table(res, tostring(err))
    local calls = 0
    for _, r in ipairs(s:requests()) do
      if r.operation == "DeclineInvitations" then calls = calls + 1 end
    end
    assert.are.equal(200, calls)
  end)

  it("control: valid non-ASCII text passes validation and is sent", function()
    s:clear_requests()
    local res, err = client("macie2"):accept_invitation{ invitationId = "invitación-招待-😀" }
    assert.is_nil(res)
    assert.is_not_nil(err.status, "the service answered: " .. tostring(err))
    assert.are.equal(1, #s:requests())
  end)

  it("counts its cases", function()
    local by_kind = {}
    for _, c in ipairs(CASES) do by_kind[c[1]] = (by_kind[c[1]] or 0) + 1 end
    assert.is_true(#CASES >= 60)
    print(("# bad-input catalog: %d cases (api %d, raise %d, policy %d, cli %d, sim %d)"):format(#CASES,
      by_kind.api or 0, by_kind.raise or 0, by_kind.policy or 0, by_kind.cli or 0, by_kind.sim or 0))
  end)
end)
