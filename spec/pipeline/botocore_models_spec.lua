-- Every operation declared in lua/invite/services/*.lua checked against botocore's own
-- service model (Debian's python3-botocore ships them as JSON): HTTP method, request URI,
-- deprecation, and every input and output member's boto3 name, wire name, location,
-- type, bounds and required flag, nested lists and structures included; paginators too.
local cjson = require "cjson"
local model = require "invite.model"

local DATA = "/usr/lib/python3/dist-packages/botocore/data"

local function read_json(path)
  local f = assert(io.open(path, "rb"), "cannot open " .. path .. " (is python3-botocore installed?)")
  local s = f:read("*a")
  f:close()
  return cjson.decode(s)
end

-- What the wire table of DESIGN.md asks for, per service (boto3 snake_case names).
local REQUIRED_OPS = {
  macie2 = { "decline_invitations", "delete_invitations", "list_invitations", "get_invitations_count",
    "accept_invitation", "get_administrator_account", "get_master_account",
    "disassociate_from_administrator_account", "disassociate_from_master_account" },
  securityhub = { "decline_invitations", "delete_invitations", "list_invitations", "get_invitations_count",
    "accept_administrator_invitation", "accept_invitation", "get_administrator_account", "get_master_account",
    "disassociate_from_administrator_account", "disassociate_from_master_account" },
  guardduty = { "decline_invitations", "delete_invitations", "list_invitations", "get_invitations_count",
    "accept_administrator_invitation", "accept_invitation", "get_administrator_account", "get_master_account",
    "disassociate_from_administrator_account", "disassociate_from_master_account", "list_detectors" },
  detective = { "list_invitations", "accept_invitation", "reject_invitation", "disassociate_membership" },
  ram = { "get_resource_share_invitations", "accept_resource_share_invitation", "reject_resource_share_invitation",
    "list_pending_invitation_resources" },
  organizations = { "list_handshakes_for_account", "describe_handshake", "accept_handshake", "decline_handshake",
    "list_accounts", "list_accounts_for_parent", "list_children", "list_roots", "describe_organization",
    "describe_account" },
}

-- What a declaration has from botocore 1.43 (python3's; spec/pipeline/<service>_spec.lua holds it
-- to that model) that Debian's 1.29 lacks, by the 1.29 model's shape name: members (declared, not
-- in that shape; each must really be missing there) and enum values (declared after that shape's).
local NEWER = {
  organizations = {
    members = { Account = { "State", "Paths" } },
    enum = { ActionType = { "TRANSFER_RESPONSIBILITY" } }, -- input enums only are compared here
  },
}
local newer -- the service's NEWER entry and its model's shape names, while one is compared

-- Declarations held to the model here although they are not (yet) invitation services.
local ALSO = { "ram", "detective" }

-- Input members declared `idempotency_token` although the model does not mark them
-- `idempotencyToken` (docs/clients.md, "Idempotency tokens"): service -> operation -> member.
local TOKEN_DEVIATIONS = {
  ram = { AcceptResourceShareInvitation = { clientToken = true },
          RejectResourceShareInvitation = { clientToken = true } },
}

-- botocore's xform_name for these names: CamelCase -> snake_case.
local function snake(name)
  return (name:gsub("(%l)(%u)", "%1_%2"):gsub("(%u)(%u%l)", "%1_%2"):lower())
end

local TYPE_OF = { string = "string", integer = "integer", long = "long", list = "list",
  structure = "structure", timestamp = "timestamp", boolean = "boolean", map = "map", double = "double" }

local function sorted_keys(t)
  local out = {}
  for k in pairs(t or {}) do out[#out + 1] = k end
  table.sort(out)
  return out
end

local function names_of(list)
  local out = {}
  for _, m in ipairs(list or {}) do out[#out + 1] = m.name end
  table.sort(out)
  return out
end

local function set_of(list)
  local s = {}
  for _, v in ipairs(list or {}) do s[v] = true end
  return s
end

-- Compare one declared value spec (type, bounds, member/members) with a botocore shape.
local compare_shape

-- input = true: also bounds, enums, required (the validator's rules). Output members
-- carry names, wire names and types only (the parser needs nothing else).
-- A recursive shape is declared to a fixed depth: the deepest structure (`struct`) lists in
-- `recursion` the members it leaves off, each the shape's own recursion (a list of that shape).
local function compare_members(where, declared, shapes, shape, input, struct)
  local want = {}
  local cut = set_of(struct and struct.recursion)
  for name in pairs(cut) do
    local ref = shape.members[name]
    assert.is_table(ref, where .. "." .. name .. ": left off but not in the model")
    local ls = shapes[ref.shape]
    assert.is_true(ls.type == "list" and shapes[ls.member.shape] == shape,
      where .. "." .. name .. ": left off, but it is not the shape's own recursion")
  end
  for _, k in ipairs(sorted_keys(shape.members)) do
    if not cut[k] then want[#want + 1] = k end
  end
  local extra = set_of(newer and newer.members[newer.names[shape]])
  local names = {}
  for _, n in ipairs(names_of(declared)) do
    if extra[n] then
      assert.is_nil(shape.members[n], where .. "." .. n .. ": in this model, no longer newer")
    else
      names[#names + 1] = n
    end
  end
  assert.are.same(want, names, where .. ": member names")
  local required = set_of(shape.required)
  for _, m in ipairs(declared) do
    local ref = shape.members[m.name]
    local w = where .. "." .. m.name
    if ref then
      assert.are.equal(ref.locationName or m.name, m.wire, w .. ": wire name")
      compare_shape(w, m, shapes, shapes[ref.shape], input)
      if input then
        assert.are.equal(required[m.name] == true, m.required == true, w .. ": required")
      end
    end
  end
end

function compare_shape(where, spec, shapes, shape, input)
  assert.is_not_nil(shape, where .. ": shape missing in the model")
  assert.are.equal(TYPE_OF[shape.type], spec.type, where .. ": type")
  if shape.type == "list" then
    compare_shape(where .. "[]", spec.member, shapes, shapes[shape.member.shape], input)
  elseif shape.type == "structure" then
    compare_members(where, spec.members, shapes, shape, input, spec)
  elseif shape.type == "map" then
    compare_shape(where .. "{key}", spec.key, shapes, shapes[shape.key.shape], input)
    compare_shape(where .. "{value}", spec.value, shapes, shapes[shape.value.shape], input)
  end
  if not input then return end
  -- bounds: the declaration repeats the model's. Where the model has none it adds only
  -- the issue's rules: lists are non-empty (min 1), account IDs are 12 digits
  -- (account_id, checked by the validator). It never loosens a bound.
  if shape.min ~= nil or not (spec.type == "list" and spec.min == 1) then
    assert.are.equal(shape.min, spec.min, where .. ": min")
  end
  assert.are.equal(shape.max, spec.max, where .. ": max")
  if shape.enum then
    local want = {}
    for i, v in ipairs(shape.enum) do want[i] = v end
    for _, v in ipairs(newer and newer.enum[newer.names[shape]] or {}) do want[#want + 1] = v end
    assert.are.same(want, spec.enum, where .. ": enum")
  end
  if shape.pattern == ".*\\S.*" then assert.is_true(spec.nonblank == true, where .. ": non-blank pattern") end
  -- a declared pattern (the client checks it with `matches`) is the model's, character for character
  if spec.pattern then assert.are.equal(shape.pattern, spec.pattern, where .. ": pattern") end
end

local checked = {}
for _, name in ipairs(model.SERVICES) do checked[#checked + 1] = name end
for _, name in ipairs(ALSO) do
  local listed = false
  for _, n in ipairs(checked) do listed = listed or n == name end
  if not listed then checked[#checked + 1] = name end
end

for _, name in ipairs(checked) do
  local svc = model.service(name)
  local def = svc.def
  local dir = DATA .. "/" .. name .. "/" .. def.api_version
  describe("botocore model " .. name .. " " .. def.api_version, function()
    local m = read_json(dir .. "/service-2.json")
    local pag = read_json(dir .. "/paginators-1.json").pagination
    local names = {}
    for shape_name, shape in pairs(m.shapes) do names[shape] = shape_name end
    local service_newer = NEWER[name] and { members = NEWER[name].members or {}, enum = NEWER[name].enum or {},
                                            names = names }
    before_each(function() newer = service_newer end)
    after_each(function() newer = nil end)

    it("has the same metadata (signing name, endpoint prefix, protocol)", function()
      assert.are.equal(m.metadata.signingName or m.metadata.endpointPrefix, def.signing_name)
      assert.are.equal(m.metadata.endpointPrefix, def.endpoint_prefix)
      assert.are.equal(m.metadata.protocol, def.protocol)
      assert.are.equal(m.metadata.serviceId, def.service_id)
      assert.are.equal(m.metadata.apiVersion, def.api_version)
    end)

    it("declares every operation of the wire table", function()
      assert.is_table(REQUIRED_OPS[name], "REQUIRED_OPS lists the operations " .. name .. " must declare")
      for _, key in ipairs(REQUIRED_OPS[name]) do
        assert.is_not_nil(svc.ops[key], name .. " lacks " .. key)
      end
    end)

    for _, key in ipairs(sorted_keys(svc.ops)) do
      local op = svc.ops[key]
      describe(op.name, function()
        local mop = m.operations[op.name]
        it("exists in the model under boto3's snake_case name", function()
          assert.is_not_nil(mop, op.name .. " is not in the model")
          assert.are.equal(snake(op.name), key)
        end)
        it("has the model's HTTP method and request URI", function()
          assert.are.equal(mop.http.method, op.method)
          assert.are.equal(mop.http.requestUri, op.uri)
        end)
        it("is deprecated exactly when the model says so", function()
          assert.are.equal(mop.deprecated == true, op.deprecated)
          if op.deprecated then assert.is_string(op.twin_of, op.name .. " names its replacement") end
          if op.twin_of then assert.is_not_nil(svc.ops[op.twin_of], "twin " .. op.twin_of) end
        end)
        it("has every input member with its wire name and location", function()
          local shapes = m.shapes
          local input = mop.input and shapes[mop.input.shape] or { members = {} }
          compare_members(op.name .. " input", op.input, shapes, input, true)
          for _, mem in ipairs(op.input) do
            local ref = input.members[mem.name]
            assert.are.equal(ref.location or "body", mem.location,
              op.name .. "." .. mem.name .. ": location")
            -- botocore fills an idempotencyToken member; invite must too, and fills no other
            -- but the documented deviations
            local deviation = ((TOKEN_DEVIATIONS[name] or {})[op.name] or {})[mem.name] == true
            assert.are.equal(ref.idempotencyToken == true or deviation, mem.idempotency_token == true,
              op.name .. "." .. mem.name .. ": idempotency token")
          end
          -- every {label} of the URI is a uri member
          for label in op.uri:gmatch("{([^}+]+)%+?}") do
            local found = false
            for _, mem in ipairs(op.input) do
              if mem.location == "uri" and mem.wire == label then found = true end
            end
            assert.is_true(found, op.name .. ": URI label {" .. label .. "} has no member")
          end
        end)
        it("has every output member with its wire name (nested shapes too)", function()
          local shapes = m.shapes
          local output = mop.output and shapes[mop.output.shape] or { members = {} }
          for _, ref in pairs(output.members) do
            assert.is_nil(ref.location, "output members in headers are not supported")
          end
          compare_members(op.name .. " output", op.output, shapes, output, false)
        end)
        it("has the model's paginator, if any", function()
          local p = pag[op.name]
          if not p then
            -- a paginator botocore lacks is invite's own, and says so
            if op.paginator then assert.is_true(op.paginator.invite_only, op.name .. ": invite_only") end
            return
          end
          assert.is_nil(op.paginator and op.paginator.invite_only, op.name .. ": botocore has this paginator")
          assert.is_table(op.paginator, op.name .. " has a paginator in botocore")
          assert.are.equal(p.input_token, op.paginator.input_token)
          assert.are.equal(p.output_token, op.paginator.output_token)
          assert.are.equal(p.limit_key, op.paginator.limit_key)
          assert.are.equal(p.result_key, op.paginator.result_key)
        end)
      end)
    end

    it("has no botocore paginator for a declared operation left undeclared", function()
      for api_name in pairs(pag) do
        local op = svc.by_api_name[api_name]
        if op then assert.is_table(op.paginator, api_name) end
      end
    end)
  end)
end
