--- Scope discovery for invite.run: who am I, which accounts, which regions. It turns the run's
-- options into the list of scopes (account x service x region) to sweep and the scopes it will
-- not sweep, each with the reason:
--
-- * who am I: STS GetCallerIdentity with the run's own credentials (account, ARN, partition);
-- * accounts: the run's own (nil), a list, or every ACTIVE account of the AWS Organizations
--   organisation (`"organization"`, optionally under OUs, minus exclusions,
--   `invite.discover.accounts`);
-- * one role session per account: AssumeRole into each account once per run, the provider cached
--   and refreshed before expiry and shared by every service and region of that account; the
--   caller's own account uses the caller's credentials; an account whose role cannot be assumed
--   is one error, and each of its scopes is skipped;
-- * regions: a list, `"all"` (every region where the service exists in the caller's partition,
--   @{invite.regions}) or `"enabled"` (those the account has enabled,
--   `invite.discover.regions`); a region the account has not enabled, or where the service does
--   not exist, is a skipped scope, not an error.
-- @module invite.scope
local _M = {}

local ipairs, type, tostring, require, pcall = ipairs, type, tostring, require, pcall
local sort = table.sort

local function errstr(err)
  if err == nil then return "unknown error" end
  return tostring(err)
end

--- The caller's identity: STS GetCallerIdentity with the client options `o` (credentials,
-- profile, endpoint, region, max_attempts).
-- @treturn table `account`, `arn`, `user_id`, `partition` (from the ARN, e.g. "aws")
-- @return[2] nil
-- @return[2] err an invite.errors error
function _M.whoami(o)
  local ok, client = pcall(require("invite").sts.client, o)
  if not ok then return nil, require("invite.errors").new{ code = "ConfigError", service = "sts",
    message = tostring(client) } end
  local r, err = client:get_caller_identity{}
  if not r then return nil, err end
  local arn = r.Arn
  return { account = r.Account, arn = arn, user_id = r.UserId,
           partition = type(arn) == "string" and arn:match("^arn:([%w%-]+):") or "aws" }
end

--- A session name for the run's role sessions: `invite-<run id>`, cut to STS's 64 characters and
-- its characters (letters, digits and `+=,.@_-`).
-- @tparam string run_id
-- @treturn string
function _M.session_name(run_id)
  local s = ("invite-" .. tostring(run_id)):gsub("[^%w%+=,%.@_%-]", "-")
  return s:sub(1, 64)
end

-- The client options of the run (everything a client of any service shares).
local function client_options(r, credentials, region)
  return { endpoint = r.endpoint, profile = r.profile, credentials = credentials, region = region,
           max_attempts = r.max_attempts, max_pages = r.max_pages, max_items = r.max_items }
end

-- The role session of `account` (a credentials provider, made once per account per run).
local function role_provider(r, account, partition)
  local credentials = require "invite.credentials"
  local source = r.credentials
  if type(source) == "table" and type(source.get) ~= "function" then source = credentials.static(source) end
  return credentials.assume_role{
    role_arn = require("invite.runner").role_arn(r.role, account, partition),
    role_session_name = r.session_name, external_id = r.external_id,
    source = source, profile = r.profile,
    endpoint = r.sts_endpoint or r.endpoint, region = r.sts_region,
  }
end

-- The regions to sweep for `service`: the list, every region of the partition where it exists
-- ("all" and "enabled"); and for a listed region where the service does not exist, why it is
-- skipped.
local function service_regions(r, service, partition)
  local regions = require "invite.regions"
  local kind = require("invite.model").invitations(service)
  if kind and kind.global then
    -- a global service (Organizations): one scope per account, region "global", whatever the regions
    return { "global" }, {}
  end
  -- a service the table has no data for (declared after it was made): every region of the partition
  local covered = regions.listed(service)
  if r.regions == "all" or r.regions == "enabled" then
    return covered and regions.of(service, partition) or regions.all(partition), {}
  end
  local unlisted, out, absent = {}, {}, {}
  for _, u in ipairs(r.unlisted or {}) do unlisted[u] = true end
  for _, region in ipairs(r.regions) do
    out[#out + 1] = region
    if covered and not unlisted[region] and not regions.exists(service, region) then
      absent[region] = service .. " does not exist in " .. region .. " (invite's region table, botocore "
        .. regions.BOTOCORE .. ")"
    end
  end
  return out, absent
end

--- The error codes of GetCallerIdentity that mean the credentials themselves cannot be used
-- (none found, expired, unknown key, bad secret): @{plan} stops before any scope, with one error.
_M.CREDENTIAL_CODES = { NoCredentials = true, ExpiredToken = true, ExpiredTokenException = true,
                        InvalidClientTokenId = true, UnrecognizedClientException = true,
                        SignatureDoesNotMatch = true, InvalidAccessKeyId = true, AuthFailure = true,
                        InvalidSignatureException = true, CredentialsError = true }

--- Plans a run: who am I, the accounts, each account's credentials and regions, and the scopes.
-- Calls go out concurrently (at most `r.concurrency` at once).
-- @tparam table r the run's checked options: `services`, `regions` (a list, "all" or "enabled"),
--   `unlisted` (regions the table does not know), `accounts` (nil, a list or "organization"),
--   `ous`, `exclude`, `role`, `external_id`, `session_name`, `sts_region`, `sts_endpoint`,
--   `identity` (a table to use instead of asking STS, or false to not ask), and the client options
--   `endpoint`, `profile`, `credentials`, `max_attempts`, `max_pages`, `max_items`
-- @treturn table `identity` (or nil), `identity_error`, `partition`, `accounts` (each `id`, `own`,
--   `credentials`, `error`, `regions_source`), `scopes` (`service`, `region`, `account`,
--   `credentials`), `skipped` (`service`, `region`, `account`, `reason`), `errors` and `warnings`
--   (strings)
function _M.plan(r)
  local scheduler = require "invite.scheduler"
  local plan = { accounts = {}, scopes = {}, skipped = {}, errors = {}, warnings = {} }

  -- 1. who am I
  local identity = r.identity
  if identity == nil then
    local id, err = _M.whoami(client_options(r, r.credentials, r.sts_region))
    if id then identity = id else plan.identity_error = "who am I (STS GetCallerIdentity): " .. errstr(err) end
    local code = type(err) == "table" and err.code or nil
    if not id and _M.CREDENTIAL_CODES[code] then
      -- no usable credentials: every scope would fail the same way; say it once and sweep nothing
      plan.credentials_error = true
      plan.errors[1] = "credentials: " .. errstr(err) .. "; nothing was swept (fix the credentials and run again)"
      return plan
    end
  end
  plan.identity = identity or nil
  local partition = identity and identity.partition
  if not partition and type(r.regions) == "table" then
    partition = require("invite.regions").partition(r.regions[1])
  end
  partition = partition or "aws"
  local known = false
  for _, id in ipairs(require("invite.regions").partitions()) do known = known or id == partition end
  if not known then
    -- a partition newer than the region table: its regions are unknown, so only listed ones work
    local why = "the caller's partition '" .. partition .. "' is not in invite's region table (botocore "
      .. require("invite.regions").BOTOCORE .. ")"
    if type(r.regions) ~= "table" then
      plan.errors[#plan.errors + 1] = why .. ": pass the regions as a list (with unlisted_regions)"
      return plan
    end
    plan.warnings[#plan.warnings + 1] = why .. ": its listed regions are swept as given"
    partition = "aws"
  end
  plan.partition = partition
  local own = identity and identity.account

  -- 2. which accounts
  local ids
  if r.accounts == "organization" then
    if plan.identity_error then
      plan.errors[#plan.errors + 1] = plan.identity_error .. "; the organisation's accounts are not listed"
      return plan
    end
    local discover = require "invite.discover.accounts"
    local o = client_options(r, r.credentials, r.sts_region)
    o.ous, o.exclude = r.ous, r.exclude
    local list, err = discover.of_organization(o)
    if not list then
      plan.errors[#plan.errors + 1] = "accounts of the organisation (Organizations): " .. errstr(err)
      return plan
    end
    ids = {}
    for i, a in ipairs(list) do ids[i] = a.id end
    plan.organization_accounts = list
  elseif type(r.accounts) == "table" then
    ids = r.accounts
  end

  local accounts = plan.accounts
  if ids then
    for _, id in ipairs(ids) do
      local a = { id = id, own = id == own }
      if not a.own then a.credentials = role_provider(r, id, partition) else a.credentials = r.credentials end
      accounts[#accounts + 1] = a
    end
  else
    accounts[1] = { id = own, own = true, credentials = r.credentials, current = true }
  end

  -- 3. each account's role session (once) and, for "enabled", its regions
  local tasks = {}
  for i, a in ipairs(accounts) do
    tasks[i] = function()
      if not a.own then
        local ok, err = a.credentials:get()
        if not ok then
          a.error = "cannot assume role " .. require("invite.runner").role_arn(r.role, a.id, partition) .. ": "
            .. errstr(err)
          return
        end
      end
      if r.regions == "enabled" then
        local set, source = require("invite.discover.regions").enabled(client_options(r, a.credentials,
          r.sts_region))
        if not set then
          a.error = "cannot tell which regions are enabled: " .. errstr(source)
          return
        end
        a.enabled, a.regions_source = set, source
      end
    end
  end
  local results = scheduler.run(tasks, { concurrency = r.concurrency or 32 })
  for i, a in ipairs(accounts) do
    if not results[i].ok then a.error = "internal error: " .. tostring(results[i].error) end
    if a.error then
      plan.errors[#plan.errors + 1] = "account " .. tostring(a.id) .. ": " .. a.error
    end
  end

  -- 4. the scopes
  local by_service = {}
  for _, service in ipairs(r.services) do
    local list, absent = service_regions(r, service, partition)
    by_service[service] = { list = list, absent = absent }
  end
  for _, a in ipairs(accounts) do
    for _, service in ipairs(r.services) do
      local sr = by_service[service]
      for _, region in ipairs(sr.list) do
        local why
        if a.error then
          why = "account " .. tostring(a.id) .. ": " .. a.error
        elseif sr.absent[region] then
          why = sr.absent[region]
        elseif a.enabled and region ~= "global" and not a.enabled[region] then
          why = "region not enabled in account " .. tostring(a.id) .. " (" .. tostring(a.regions_source) .. ")"
        end
        local s = { service = service, region = region, account = a.id, credentials = a.credentials,
                    current = a.current }
        if region == "global" then
          -- the client's region: where the partition's global endpoint signs
          local g = require("invite.regions").global(service, partition or "aws")
          s.client_region = g and g.signing_region or "us-east-1"
        end
        if why then
          s.reason = why
          plan.skipped[#plan.skipped + 1] = s
        else
          plan.scopes[#plan.scopes + 1] = s
        end
      end
    end
  end
  return plan
end

--- The skipped scopes of a plan, counted by reason ("region not enabled ...": n), sorted.
-- @tparam table plan from @{plan}
-- @treturn {string,...} lines "n scopes: reason"
function _M.skipped_lines(plan)
  local by, order = {}, {}
  for _, s in ipairs(plan.skipped) do
    local key = s.reason:gsub(" in account %d+ %(", " (")
    if not by[key] then by[key], order[#order + 1] = 0, key end
    by[key] = by[key] + 1
  end
  sort(order)
  local out = {}
  for _, k in ipairs(order) do out[#out + 1] = by[k] .. (by[k] == 1 and " scope" or " scopes") .. " skipped: " .. k end
  return out
end

return _M
