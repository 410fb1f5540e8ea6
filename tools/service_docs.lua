-- tools/service_docs.lua: writes the LDoc pages of the invitation services (invite.macie2,
-- invite.securityhub, invite.guardduty: invite.model.SERVICES, every lua/invite/services/<name>.lua
-- with an `invitations` table) as doc-only Lua files, from the same data the clients are built from:
-- lua/invite/services/<name>.lua (operations, members, constraints, paginators) and the `---`
-- line above each operation there (what it does). So the reference cannot drift from the code.
--
--   lua5.4 tools/service_docs.lua OUTDIR     writes OUTDIR/invite/<service>.lua
--
-- Fails (exit 1, naming it) when the runtime module `invite.<service>` exports a name this
-- generator does not know how to document, or an operation has no `---` line.
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path

local outdir = assert(arg[1], "usage: lua5.4 tools/service_docs.lua OUTDIR")
local invite = require "invite"

local model = require "invite.model"
-- Values for the @usage examples, by boto3 member name (lower-cased).
local EXAMPLE = {
  detectorid = '"12abc34d567e8fa901bc2d34e56789f0"',
  invitationid = '"84b097800250d17d1872b34c4EXAMPLE"',
}

local problems = {}

-- The `---` block above each operation of a service file: op name -> text.
local function op_comments(path)
  local f = assert(io.open(path, "r"))
  local out, block = {}, nil
  for line in f:lines() do
    local first = line:match("^%s*%-%-%-%s?(.*)$")
    local cont = line:match("^%s*%-%-%s?(.*)$")
    if first and not line:find("^%s*%-%-%-%-") then
      block = { first }
    elseif block and cont then
      block[#block + 1] = cont
    else
      local name = line:match("^    ([%a_][%w_]*) = {%s*$")
      if name and block then out[name] = table.concat(block, " ") end
      block = nil
    end
  end
  f:close()
  return out
end

local function type_of(m)
  local t = m.type
  if t == "list" then
    local mt = m.member and m.member.type or "any"
    if mt == "structure" then return "{table,...}" end
    return "{" .. ((mt == "integer" or mt == "long") and "int" or mt) .. ",...}"
  elseif t == "integer" or t == "long" then
    return "int"
  elseif t == "structure" then
    return "table"
  elseif t == "timestamp" then
    return "string"
  end
  return t or "any"
end

-- One member's rules in words.
local function rules(m)
  local r = {}
  if m.type == "list" then
    local item = m.member or {}
    if item.account_id then r[#r + 1] = "12-digit account IDs" end
    if m.min and m.max then r[#r + 1] = ("%d to %d items"):format(m.min, m.max)
    elseif m.min then r[#r + 1] = ("at least %d item%s"):format(m.min, m.min == 1 and "" or "s") end
  else
    if m.account_id then r[#r + 1] = "a 12-digit account ID" end
    if m.type == "string" and m.min and m.max and not m.account_id then
      r[#r + 1] = ("%d to %d characters"):format(m.min, m.max)
    elseif (m.type == "integer" or m.type == "long") and m.min and m.max then
      r[#r + 1] = ("%d to %d"):format(m.min, m.max)
    end
    if m.type == "timestamp" then r[#r + 1] = "ISO 8601 time" end
  end
  if m.enum then r[#r + 1] = "one of " .. table.concat(m.enum, ", ") end
  if m.nonblank then r[#r + 1] = "not blank" end
  local where = ({ querystring = "query string", uri = "URI label" })[m.location]
  if where then r[#r + 1] = where .. " `" .. m.wire .. "`"
  elseif m.wire and m.wire ~= m.name then r[#r + 1] = "wire name `" .. m.wire .. "`" end
  return table.concat(r, "; ")
end

local function response_lines(members, indent, out)
  for _, m in ipairs(members) do
    local t = m.type == "list" and ("list of " .. (m.member and m.member.type or "any")) or m.type
    local r = rules(m)
    out[#out + 1] = ("%s* `%s` (%s)%s"):format(indent, m.name, t, r ~= "" and (": " .. r) or "")
    local sub = m.type == "structure" and m.members or (m.type == "list" and m.member and m.member.members)
    if sub then response_lines(sub, indent .. "    ", out) end
  end
end

local function example_params(op, service)
  local parts = {}
  for _, m in ipairs(op.input or {}) do
    if m.required then
      local v
      if m.type == "list" and m.member and m.member.account_id then v = '{ "111122223333" }'
      elseif m.account_id then v = '"111122223333"'
      else v = EXAMPLE[m.name:lower()] or '"..."' end
      parts[#parts + 1] = m.name .. " = " .. v
    end
  end
  local args = #parts > 0 and ("{ " .. table.concat(parts, ", ") .. " }") or "{}"
  return ("local res, err = invite.%s.%s%s"):format(service, op.key, args)
end

local function operation_doc(service, key, op, comment, def, twins)
  local L = {}
  L[#L + 1] = "--- " .. comment
  L[#L + 1] = "--"
  L[#L + 1] = ("-- API `%s`: `%s %s` (%s %s)."):format(op.name, op.method, op.uri, def.service_id, def.api_version)
  if op.batch then
    L[#L + 1] = ("-- Any number of account IDs: invite sends them in calls of %d (duplicates once) and merges "
      .. "the answers into one response (`%s` concatenated)."):format(op.batch.size, op.batch.merge)
  end
  if op.deprecated then L[#L + 1] = "-- Deprecated in the service model." end
  if op.twin_of and not comment:lower():find("older name", 1, true) then
    L[#L + 1] = ("-- Older name of @{%s}, still served."):format(op.twin_of)
  end
  if twins[key] then L[#L + 1] = ("-- Its older name, @{%s}, is still served."):format(twins[key]) end
  L[#L + 1] = "--"
  L[#L + 1] = "-- Response fields (boto3 names):"
  L[#L + 1] = "--"
  local out = {}
  response_lines(op.output or {}, "", out)
  out[#out + 1] = "* `ResponseMetadata`: `RequestId`, `HTTPStatusCode`, `HTTPHeaders`, `RetryAttempts`"
    .. (op.batch and ", and after a split `RequestIds`, `Batches`" or "")
  for _, l in ipairs(out) do L[#L + 1] = "-- " .. l end
  L[#L + 1] = "--"
  L[#L + 1] = "-- @function " .. key
  local any_required = false
  for _, m in ipairs(op.input or {}) do any_required = any_required or m.required end
  L[#L + 1] = "-- @tparam" .. (any_required and "" or "[opt]") .. " table params boto3 parameters"
    .. ((op.input and #op.input > 0) and ":" or " (this operation takes none)")
  for _, m in ipairs(op.input or {}) do
    local r = rules(m)
    L[#L + 1] = ("-- @tparam%s %s params.%s %s"):format(m.required and "" or "[opt]", type_of(m), m.name,
      (m.required and "required" or "optional") .. (r ~= "" and ("; " .. r) or ""))
  end
  L[#L + 1] = "-- @treturn table the response (fields above)"
  L[#L + 1] = "-- @return[2] nil"
  L[#L + 1] = "-- @return[2] err: `code`, `message`, `status`, `request_id`, `retryable`, `service`, `operation`"
    .. (op.batch and "; after a split also `batch`, `batches`, `not_processed`, `partial`" or "")
  op.key = key
  L[#L + 1] = "-- @usage " .. example_params(op, service)
  L[#L + 1] = ("-- local c = invite.%s.client{ region = \"eu-west-1\" }; local res, err = c:%s(...)")
    :format(service, key)
  return table.concat(L, "\n") .. "\n"
end

local function paginator_docs(service, key, pag)
  local item = pag.result_key
  return table.concat({
    ("--- Every `%s` item of every page of @{%s}, as one array (follows `%s`)."):format(item, key, pag.output_token),
    "-- @function " .. pag.all,
    "-- @tparam[opt] table params as for @{" .. key .. "} (the token is managed for you)",
    "-- @treturn table array of items",
    "-- @return[2] nil",
    "-- @return[2] err",
    ("-- @usage local all, err = invite.%s.%s{}"):format(service, pag.all),
    "",
    ("--- Iterates over the `%s` items of every page of @{%s}, one at a time; yields `false, err`"
      .. " once on failure."):format(item, key),
    "-- @function " .. pag.each,
    "-- @tparam[opt] table params as for @{" .. key .. "}",
    "-- @return an iterator",
    ("-- @usage for inv, err in invite.%s.%s{} do if not inv then error(tostring(err)) end end")
      :format(service, pag.each),
    "",
  }, "\n")
end

local function module_functions(service, api_version)
  return table.concat({
    ("--- A new client. Options: `region`, `endpoint`, `profile`, `credentials`, `max_attempts`,"
      .. " `dry_run`, `transport`, ... (@{invite.client})."),
    "-- @function client",
    "-- @tparam[opt] table opts client options",
    "-- @return an @{invite.client.Client}: every operation below as a method",
    "-- @raise on an unknown option (naming the closest) or one of the wrong type",
    ("-- @usage local c = invite.%s.client{ region = \"eu-west-1\", profile = \"audit\" }"):format(service),
    "",
    "--- Sets the options of the default client used by the module-level calls (checked now).",
    "-- @function configure",
    "-- @tparam[opt] table opts client options",
    ("-- @usage invite.%s.configure{ region = \"us-east-1\" }"):format(service),
    "",
    "--- The default client, made on first use from the @{configure} options (region, credentials and"
      .. " endpoint resolved like boto3's).",
    "-- @function default_client",
    "-- @return an @{invite.client.Client}",
    "",
    "--- Pages of a paginated operation on the default client (@{invite.client.Client:paginate}).",
    "-- @function paginate",
    "-- @tparam string op boto3 operation name, e.g. \"list_invitations\"",
    "-- @tparam[opt] table params",
    "-- @return an iterator of pages",
    "",
    "--- The service name, \"" .. service .. "\".",
    "-- @field service",
    "",
    "--- The API version of the service model, \"" .. api_version .. "\".",
    "-- @field api_version",
    "",
    "--- The boto3 names of every operation, sorted.",
    "-- @field operations",
    "",
  }, "\n")
end

local KNOWN_FIELDS = { service = true, api_version = true, operations = true, client = true, configure = true,
                       default_client = true, paginate = true }

local function generate(service)
  local def = dofile("lua/invite/services/" .. service .. ".lua")
  local comments = op_comments("lua/invite/services/" .. service .. ".lua")
  local M = invite.service_module(service)
  local documented = {}
  for k in pairs(KNOWN_FIELDS) do documented[k] = true end
  local keys = {}
  for k in pairs(def.operations) do keys[#keys + 1] = k end
  table.sort(keys)
  local twins = {}
  for k, op in pairs(def.operations) do if op.twin_of then twins[op.twin_of] = k end end
  local parts = {
    ("--- %s (%s): boto3-named operations of its membership-invitation API.")
      :format(model.invitations(service).title, service),
    "--",
    ("-- `invite.%s` is built at run time by @{invite.service_module} from"
      .. " `lua/invite/services/%s.lua`; this page is generated from the same data by"
      .. " tools/service_docs.lua."):format(service, service),
    "-- Every operation is a module-level function using a default client"
      .. (" (`invite.%s.decline_invitations{...}`) and a method of"):format(service)
      .. (" `invite.%s.client{...}` objects. Parameters are checked before anything is sent"):format(service)
      .. " (unknown names, required members, account IDs, ranges: `ValidationError` naming the field"
      .. " and the rule).",
    "-- @module invite." .. service,
    "",
    module_functions(service, def.api_version),
  }
  for _, key in ipairs(keys) do
    local op = def.operations[key]
    if not comments[key] then
      problems[#problems + 1] = ("lua/invite/services/%s.lua: operation %s has no --- line"):format(service, key)
    end
    parts[#parts + 1] = operation_doc(service, key, op, comments[key] or "(undocumented)", def, twins)
    documented[key] = true
    local pag = def.paginators and def.paginators[key]
    if pag then
      parts[#parts + 1] = paginator_docs(service, key, pag)
      documented[pag.all], documented[pag.each] = true, true
    end
  end
  for k in pairs(M) do
    if not documented[k] then
      problems[#problems + 1] = ("invite.%s.%s is exported but tools/service_docs.lua does not document it")
        :format(service, k)
    end
  end
  local path = outdir .. "/invite/" .. service .. ".lua"
  local f = assert(io.open(path, "w"))
  f:write(table.concat(parts, "\n"))
  f:close()
end

assert(os.execute("mkdir -p '" .. outdir .. "/invite'"))
for _, service in ipairs(model.SERVICES) do generate(service) end
if #problems > 0 then
  for _, p in ipairs(problems) do io.stderr:write("tools/service_docs.lua: ", p, "\n") end
  os.exit(1)
end
