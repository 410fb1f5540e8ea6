--- The identifiers of AWS Organizations and their rules, from botocore's model
-- (organizations/2016-11-28): organisation `^o-[a-z0-9]{10,32}$`, root `^r-[0-9a-z]{4,32}$`,
-- organizational unit `^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`, a parent (root or OU) and an account
-- ID (`^\d{12}$`). The model writes ParentId's pattern as `^(r-...)|(ou-...)$`, anchored at one
-- end per alternative; the service and these checks anchor both. Used by invite.discover.accounts
-- (OU IDs given by the caller) and the simulator (its fixture and its input checks). Plain string
-- operations, no I/O.
-- @module invite.discover.org_ids
local _M = {}

local type, find, match = type, string.find, string.match

-- a string of `lo`..`hi` characters of [0-9a-z]
local function lower_alnum(s, lo, hi)
  return s ~= nil and #s >= lo and #s <= hi and not find(s, "[^0-9a-z]")
end

--- True for an organisation ID like `o-exampleorgid`.
function _M.is_org_id(v)
  return type(v) == "string" and lower_alnum(match(v, "^o%-(.*)$"), 10, 32) or false
end

--- True for a root ID like `r-examplerootid111`.
function _M.is_root_id(v)
  return type(v) == "string" and lower_alnum(match(v, "^r%-(.*)$"), 4, 32) or false
end

--- True for an organizational unit ID like `ou-ab12-cd34ef56`.
function _M.is_ou_id(v)
  if type(v) ~= "string" then return false end
  local a, b = match(v, "^ou%-([0-9a-z]+)%-([0-9a-z]+)$")
  return a ~= nil and #a >= 4 and #a <= 32 and #b >= 8 and #b <= 32
end

--- True for a parent: a root or an OU ID.
function _M.is_parent_id(v)
  return _M.is_root_id(v) or _M.is_ou_id(v)
end

--- True for a 12-digit account ID string.
function _M.is_account_id(v)
  return type(v) == "string" and #v == 12 and not find(v, "%D")
end

--- The rules in words, for messages.
-- @table RULES
_M.RULES = {
  org = "an organization ID is o- and 10 to 32 lower-case letters or digits (^o-[a-z0-9]{10,32}$)",
  root = "a root ID is r- and 4 to 32 lower-case letters or digits (^r-[0-9a-z]{4,32}$)",
  ou = "an OU ID is ou-, 4 to 32 lower-case letters or digits, -, and 8 to 32 more "
    .. "(^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$)",
  parent = "a parent is a root ID (r- and 4 to 32 lower-case letters or digits) or an OU ID "
    .. "(ou-, 4 to 32 lower-case letters or digits, -, 8 to 32 more)",
  account = "an account ID is 12 digits",
}

return _M
