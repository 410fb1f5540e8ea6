--- Which accounts: the ACTIVE accounts of the caller's AWS Organizations organisation, all of them
-- (ListAccounts) or those under given roots/OUs, recursively (ListChildren ORGANIZATIONAL_UNIT and
-- ListAccountsForParent), minus exclusions. Runs over the organizations client
-- (`require("invite").organizations.client`), so its options, retries and errors are every
-- client's; the caller must be the management account (or a delegated administrator).
--
--     local accounts = require "invite.discover.accounts"
--     local list, counts = accounts.of_organization{ region = "us-east-1", ous = { "ou-ab12-cd34ef56" },
--                                                    exclude = { "111111111111" } }
--     -- list: { {id =, name =, email =, status = "ACTIVE"}, ... } sorted by id; counts.suspended ...
-- @module invite.discover.accounts
local errors = require "invite.errors"
local ids = require "invite.discover.org_ids"

local _M = {}

local type, ipairs, pairs, tostring, sort = type, ipairs, pairs, tostring, table.sort

local CTX = { service = "organizations", operation = "discover.accounts" }

local function bad(message)
  return nil, errors.client("ValidationError", "invite.discover.accounts: " .. message, CTX)
end

local function describe(v)
  return require("invite.validate").describe(v)
end

-- a list of strings each passing `check`, or nil, err naming `field[i]` and `rule`
local function check_list(v, field, check, rule)
  if v == nil then return {} end
  if type(v) ~= "table" then return bad(field .. ": must be a list, got " .. describe(v)) end
  local n = #v
  for k in pairs(v) do
    if type(k) ~= "number" or k < 1 or k > n or k % 1 ~= 0 then
      return bad(field .. ": must be a list (a Lua array with keys 1..n)")
    end
  end
  for i = 1, n do
    if not check(v[i]) then return bad(("%s[%d] = %s: %s"):format(field, i, describe(v[i]), rule)) end
  end
  return v
end

-- the client options: everything but this module's own
local function client(opts)
  local o = {}
  for k, v in pairs(opts) do
    if k ~= "ous" and k ~= "exclude" then o[k] = v end
  end
  return require("invite").organizations.client(o)
end

local function state_of(a)
  return a.State or a.Status
end

--- The ACTIVE accounts of the organisation, deduplicated and sorted by ID.
-- @tparam[opt] table opts client options (`credentials`, `endpoint`, `profile`, `region`,
--   `max_attempts`, ...) and
-- @tparam[opt] {string,...} opts.ous roots or OUs (`r-...`, `ou-...-...`): only the accounts under
--   them, at any depth; checked against the model's patterns first (a bad one: nothing is sent)
-- @tparam[opt] {string,...} opts.exclude 12-digit account IDs to leave out
-- @treturn {table,...} `{ id =, name =, email =, status = }` per ACTIVE account (status: the
--   account's `State`, else its deprecated `Status`)
-- @treturn table what was left out: `suspended`, `pending_closure`, `excluded` (0 when none) and
--   any other state lower-cased (e.g. `closed`), plus `found`, the distinct accounts listed
-- @return[2] nil
-- @return[2] err an invite.errors error (ValidationError for bad `ous`/`exclude`, else the
--   service's: AccessDeniedException for a member account, AWSOrganizationsNotInUseException, ...);
--   options that are not a table, or unknown client options, raise (misuse)
function _M.of_organization(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("invite.discover.accounts.of_organization: options must be a table", 2) end
  local ous, err = check_list(opts.ous, "ous", ids.is_parent_id, ids.RULES.parent)
  if not ous then return nil, err end
  local exclude
  exclude, err = check_list(opts.exclude, "exclude", ids.is_account_id, ids.RULES.account)
  if not exclude then return nil, err end
  local c = client(opts)

  local found = {}
  if #ous == 0 then
    local list, lerr = c:list_all_accounts{}
    if not list then return nil, lerr end
    found = list
  else
    -- breadth first from the given parents; a parent reached twice (nested or repeated OUs) is
    -- walked once
    local queue, seen, head = {}, {}, 1
    for _, id in ipairs(ous) do
      if not seen[id] then seen[id], queue[#queue + 1] = true, id end
    end
    while queue[head] do
      local parent = queue[head]
      head = head + 1
      local list, lerr = c:list_all_accounts_for_parent{ ParentId = parent }
      if not list then return nil, lerr end
      for _, a in ipairs(list) do found[#found + 1] = a end
      local units, uerr = c:list_all_children{ ParentId = parent, ChildType = "ORGANIZATIONAL_UNIT" }
      if not units then return nil, uerr end
      for _, u in ipairs(units) do
        if type(u.Id) == "string" and not seen[u.Id] then seen[u.Id], queue[#queue + 1] = true, u.Id end
      end
    end
  end

  local skip = {}
  for _, id in ipairs(exclude) do skip[id] = true end
  local counts = { suspended = 0, pending_closure = 0, excluded = 0, found = 0 }
  local out, taken = {}, {}
  for _, a in ipairs(found) do
    local id = a.Id
    if type(id) == "string" and not taken[id] then
      taken[id] = true
      counts.found = counts.found + 1
      local state = state_of(a)
      if skip[id] then
        counts.excluded = counts.excluded + 1
      elseif state ~= "ACTIVE" then
        local k = tostring(state or "unknown"):lower()
        counts[k] = (counts[k] or 0) + 1
      else
        out[#out + 1] = { id = id, name = a.Name, email = a.Email, status = state }
      end
    end
  end
  sort(out, function(x, y) return x.id < y.id end)
  return out, counts
end

--- The caller's organisation: DescribeOrganization's `Organization` (`Id`, `Arn`, `FeatureSet`,
-- `MasterAccountId`, `MasterAccountArn`, `MasterAccountEmail`, ...). Any member account may ask.
-- @tparam[opt] table opts client options
-- @treturn table the Organization
-- @return[2] nil
-- @return[2] err an invite.errors error (AWSOrganizationsNotInUseException outside an organisation)
function _M.organization(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("invite.discover.accounts.organization: options must be a table", 2) end
  local res, err = client(opts):describe_organization()
  if not res then return nil, err end
  if type(res.Organization) ~= "table" then
    return nil, errors.client("InvalidResponse", "organizations DescribeOrganization: the answer has no Organization",
      { service = "organizations", operation = "DescribeOrganization" })
  end
  return res.Organization
end

return _M
