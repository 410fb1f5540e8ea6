--- The AWS query protocol (botocore's "query"; STS): every operation is a form-encoded POST to the
-- endpoint's "/", answered in XML.
--
-- A request (botocore's query serialiser): `Content-Type: application/x-www-form-urlencoded;
-- charset=utf-8` and the body `Action=<Operation>&Version=<apiVersion>` followed by the input
-- members in declaration order, keys and values RFC 3986 percent-encoded:
--   * a member is `<wire>=<value>`; a structure's members are `<prefix>.<wire>`;
--   * a list is `<prefix>.member.<i>` (i from 1; the member's own `wire` replaces "member"), or,
--     `flattened = true`, `<prefix>.<i>` (with the member's `wire` in place of the list's name);
--     an empty list is `<prefix>=` (an empty value);
--   * a map is `<prefix>.entry.<i>.key` / `.value` (sorted by key, so a body is the same bytes
--     every time; `flattened` drops ".entry"; the key and value specs' `wire` rename them);
--   * booleans are true/false, integers have no fraction, a timestamp given as epoch seconds is
--     ISO 8601 UTC (a string is sent as given).
-- An answer: `<OperationResponse><OperationResult>` holds the output members (elements named by
-- their `wire`; a list's items are `member` elements unless the list is flattened), and
-- `<ResponseMetadata><RequestId>` the request id. An error: `<ErrorResponse><Error><Code>`,
-- `<Message>`, and `<RequestId>`. XML is read by invite.xml (expat when installed).
--
-- The module is made by @{dialect} from the rules that differ between query dialects (where the
-- result and the error sit, how lists are written); EC2's variant is one more dialect, @{ec2}.
-- @module invite.protocols.query
local build = require "invite.build"
local parse = require "invite.parse"
local errors = require "invite.errors"
local xml = require "invite.xml"

local type, tostring, tonumber, pairs, ipairs, setmetatable = type, tostring, tonumber, pairs, ipairs, setmetatable
local concat, sort = table.concat, table.sort
local find, sub, gsub, match, format = string.find, string.sub, string.gsub, string.match, string.format
local floor = math.floor

local percent_encode, int_string = build.percent_encode, build.int_string
local child = xml.child

local _M = {}

-- Serialising ------------------------------------------------------------------------------------

local function add(out, key, value)
  out[#out + 1] = percent_encode(key) .. "=" .. percent_encode(value)
end

local function join(prefix, name)
  if prefix == "" then return name end
  return prefix .. "." .. name
end

-- prefix "A.B.Name" with its last part replaced by name
local function rename_last(prefix, name)
  local head = match(prefix, "^(.*)%.[^.]*$")
  if head then return head .. "." .. name end
  return name
end

local function timestamp(v)
  if type(v) == "number" then return os.date("!%Y-%m-%dT%H:%M:%SZ", floor(v)) end
  return tostring(v)
end

local serialize

local function serialize_members(d, out, members, v, prefix)
  for i = 1, #members do
    local m = members[i]
    local mv = v[m.name]
    if mv ~= nil then serialize(d, out, m, mv, join(prefix, d.member_name(m))) end
  end
end

local function by_string(a, b) return tostring(a) < tostring(b) end

function serialize(d, out, spec, v, prefix)
  local t = spec.type
  if t == "structure" then
    serialize_members(d, out, spec.members, v, prefix)
  elseif t == "list" then
    if #v == 0 then
      if d.empty_list then add(out, prefix, "") end
      return
    end
    local member = spec.member
    local list_prefix
    if d.numbered_lists then
      list_prefix = prefix
    elseif spec.flattened or d.flattened then
      list_prefix = member.wire and rename_last(prefix, member.wire) or prefix
    else
      list_prefix = prefix .. "." .. (member.wire or "member")
    end
    for i = 1, #v do serialize(d, out, member, v[i], list_prefix .. "." .. i) end
  elseif t == "map" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    sort(keys, by_string)
    local entry = spec.flattened and prefix or (prefix .. ".entry")
    local kname, vname = spec.key and spec.key.wire or "key", spec.value and spec.value.wire or "value"
    for i, k in ipairs(keys) do
      local p = entry .. "." .. i
      add(out, p .. "." .. kname, tostring(k))
      serialize(d, out, spec.value or { type = "string" }, v[k], p .. "." .. vname)
    end
  elseif t == "boolean" then
    add(out, prefix, v and "true" or "false")
  elseif t == "integer" or t == "long" then
    add(out, prefix, int_string(v))
  elseif t == "timestamp" then
    add(out, prefix, timestamp(v))
  else
    add(out, prefix, tostring(v))
  end
end

-- Parsing --------------------------------------------------------------------------------------

-- an element's text, nil when the element is absent or empty
local function text_of(node)
  local s = node and node.text
  if s == nil or s == "" then return nil end
  return s
end

local decode

local function decode_members(d, members, node, out)
  for i = 1, #members do
    local m = members[i]
    local v
    if m.type == "list" and (m.flattened or d.flattened) then
      -- the items are the node's own children, named after the member (or the list)
      local name = m.member.wire or m.wire or m.name
      local items
      for j = 1, #node do
        local c = node[j]
        if c.name == name then
          items = items or {}
          items[#items + 1] = decode(d, m.member, c)
        end
      end
      v = items
    else
      local c = child(node, m.wire or m.name)
      if c then v = decode(d, m, c) end
    end
    if v ~= nil then out[m.name] = v end
  end
  return out
end

function decode(d, spec, node)
  local t = spec.type
  if t == "structure" then
    return decode_members(d, spec.members, node, {})
  elseif t == "list" then
    local name = spec.member.wire or "member"
    local out = {}
    for j = 1, #node do
      local c = node[j]
      if c.name == name then out[#out + 1] = decode(d, spec.member, c) end
    end
    return out
  elseif t == "map" then
    local out = {}
    local kname, vname = spec.key and spec.key.wire or "key", spec.value and spec.value.wire or "value"
    for j = 1, #node do
      local e = node[j]
      if spec.flattened or e.name == "entry" then
        local k = text_of(child(e, kname))
        local vn = child(e, vname)
        if k and vn then out[k] = decode(d, spec.value or { type = "string" }, vn) end
      end
    end
    return out
  elseif t == "integer" or t == "long" then
    local n = tonumber(text_of(node) or "")
    if n and math.tointeger then n = math.tointeger(n) or n end
    return n
  elseif t == "float" or t == "double" then
    return tonumber(text_of(node) or "")
  elseif t == "boolean" then
    local s = text_of(node)
    if s == "true" then return true elseif s == "false" then return false end
    return nil
  end
  return node.text or "" -- string, timestamp (kept as the ISO 8601 text, as the JSON protocols do)
end

-- A printable, bounded excerpt of a body that is not XML.
local function excerpt(body)
  if type(body) ~= "string" or body == "" then return "empty body" end
  local s = gsub(sub(body, 1, 120), "[%c\128-\255]", "?")
  if #body > 120 then s = s .. "..." end
  return "body: " .. s
end

-- The protocol ---------------------------------------------------------------------------------

--- Makes a query-protocol module from the rules of one dialect:
--   member_name(m) -> the name a member is sent under (default: its `wire`, else its name);
--   flattened      -> every list is written and read flattened;
--   numbered_lists -> every list is written `<prefix>.<i>` whatever its member's `wire` (EC2),
--                    and read as the dialect's lists are;
--   empty_list     -> an empty list is sent as `<prefix>=` (query: yes);
--   result(root, op) -> the element holding the output members (default `<Op>Result` in the root,
--                    or op.def.result_wrapper);
--   error(root)    -> the element holding Code and Message (default: Error in the root, or in
--                    its Errors child);
--   name           -> the protocol's name.
-- @tparam table d the dialect
-- @treturn table a protocol module: build, parse, error
function _M.dialect(d)
  d = setmetatable(d or {}, { __index = {
    name = "query",
    member_name = function(m) return m.wire or m.name end,
    empty_list = true,
    result = function(root, op) return child(root, op.def.result_wrapper or (op.name .. "Result")) end,
    error = function(root)
      if root.name == "Error" then return root end
      return child(root, "Error") or (child(root, "Errors") and child(child(root, "Errors"), "Error"))
    end,
  } })
  local P = { name = d.name }

  --- build(op, params, endpoint, def) -> req {method, path, query, url, headers, body}
  function P.build(op, params, endpoint, def)
    local out = { "Action=" .. percent_encode(op.name), "Version=" .. percent_encode(def.api_version) }
    serialize_members(d, out, op.input, params, "")
    return {
      method = "POST",
      path = endpoint.base_path .. "/",
      query = "",
      url = build.root_url(endpoint),
      headers = {
        { "Host", endpoint.authority },
        { "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
      },
      body = concat(out, "&"),
    }
  end

  --- parse(op, res, ctx) -> result | nil, err. A 2xx answer that is not readable XML is an
  -- InvalidResponse, not retried (botocore raises a parser error for it; invite.sts did the same).
  function P.parse(op, res, ctx)
    local root, why = xml.parse(res.body)
    if not root then
      return nil, parse.invalid(res, ctx, "unreadable XML response: " .. tostring(errors.bounded(why)), false)
    end
    local out = parse.result(res)
    local rid = text_of(child(root, "ResponseMetadata") and child(child(root, "ResponseMetadata"), "RequestId"))
      or text_of(child(root, "requestId")) -- EC2's place
    if rid then out.ResponseMetadata.RequestId = rid end
    local node = d.result(root, op)
    if node then decode_members(d, op.output, node, out) end
    return out
  end

  --- error(res, ctx) -> err for a non-2xx answer.
  function P.error(res, ctx)
    local status = res.status
    local root = xml.parse(res.body)
    local code, message, rid
    if root then
      local e = d.error(root)
      if e then
        code = text_of(child(e, "Code"))
        message = text_of(child(e, "Message"))
      end
      rid = text_of(child(root, "RequestId")) or text_of(child(root, "RequestID"))
    elseif type(res.body) == "string" and find(res.body, "%S") then
      -- not XML (a proxy's page, a cut answer): still a clear error
      message = format("non-XML error response with HTTP status %s (%s)", tostring(status), excerpt(res.body))
    end
    return parse.service_error(res, ctx, code, message, rid)
  end

  return P
end

local query = _M.dialect{ name = "query" }
_M.name, _M.build, _M.parse, _M.error = query.name, query.build, query.parse, query.error

--- EC2's dialect (botocore's "ec2" protocol; invite.protocols.ec2 is this table). A request: a
-- member is sent under its `query_name`, else its `wire` with the first letter in capitals
-- (`dryRun` -> `DryRun`), else its name; every list is `<prefix>.<i>` (`RegionName.1`,
-- `Filter.1.Name`, `Filter.1.Value.1`), and an empty list is not sent at all. An answer:
-- `<OperationResponse>` itself holds the output members and `<requestId>`; lists are wrapped
-- (`<regionInfo><item>...</item></regionInfo>`, the member's `wire` naming the items). An error:
-- `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>`.
-- @table ec2
_M.ec2 = _M.dialect{
  name = "ec2",
  member_name = function(m)
    if m.query_name then return m.query_name end
    local w = m.wire
    if w then return string.upper(sub(w, 1, 1)) .. sub(w, 2) end
    return m.name
  end,
  numbered_lists = true,
  empty_list = false,
  result = function(root) return root end,
}

return _M
