-- The same calls made by invite and by boto3 (Debian's /usr/bin/python3) against two
-- simulators started from the same fixture: every request each client sent (captured at
-- its send boundary: invite's transport, boto3's before-send event) has the same method,
-- path, query and JSON body, both simulators answer the same, and the parsed responses
-- carry the same boto3 member names and values.
local cjson = require "cjson"
local sim = require "support.sim"
local invite = require "invite"
local transport = require "invite.transport"

local PY = [==[
import json, sys, datetime
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

cfg = json.load(sys.stdin)
session = boto3.session.Session(
    aws_access_key_id=cfg["access_key"], aws_secret_access_key=cfg["secret_key"],
    region_name=cfg["region"])
clients, captured = {}, []

def capture(request, **kwargs):
    body = request.body or b""
    if not isinstance(body, (bytes, bytearray)):
        body = body.read() if hasattr(body, "read") else str(body).encode()
    captured.append({"method": request.method, "url": request.url, "body": body.decode("utf-8")})

def client(service):
    if service not in clients:
        c = session.client(service, endpoint_url=cfg["endpoint"],
                           config=Config(retries={"max_attempts": 1, "mode": "standard"}))
        c.meta.events.register("before-send", capture)
        clients[service] = c
    return clients[service]

def plain(v):
    if isinstance(v, datetime.datetime):
        return {"epoch": int(v.timestamp())}
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items() if k != "ResponseMetadata"}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v

out = []
for call in cfg["calls"]:
    del captured[:]
    c = client(call["service"])
    params = call.get("params") or {}
    entry = {}
    try:
        if call.get("paginate"):
            pages = c.get_paginator(call["op"]).paginate(**params)
            entry["result"] = [plain(p) for p in pages]
            entry["status"] = 200
        else:
            res = getattr(c, call["op"])(**params)
            entry["status"] = res["ResponseMetadata"]["HTTPStatusCode"]
            entry["result"] = plain(res)
    except ClientError as e:
        entry["status"] = e.response["ResponseMetadata"]["HTTPStatusCode"]
        entry["code"] = e.response["Error"]["Code"]
    entry["requests"] = list(captured)
    out.append(entry)
json.dump(out, sys.stdout)
]==]

local REGION = "us-east-1"
local ME = "111122223333"
local KEY = { id = "AKIAPARITYTEST000001", secret = "parity/secret/key/0123456789abcdefghijkl" }
local DETECTOR = "8ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"
local RAM_INVITERS = { "210987654321", "333344445555", "444455556666" }
local function RAM_ARN(i)
  return string.format("arn:aws:ram:%s:%s:resource-share-invitation/00000000-0000-4000-8000-%012d", REGION,
    RAM_INVITERS[i], i)
end
local function RAM_SHARE(i)
  return string.format("arn:aws:ram:%s:%s:resource-share/00000000-0000-4000-8000-%012d", REGION, RAM_INVITERS[i], i)
end
-- Amazon Detective's behavior graphs ME is invited to (index i: graph i of DETECTIVE_INVITERS[i])
local DETECTIVE_INVITERS = { "210987654321", "333344445555", "444455556666", "555566667777" }
local function GRAPH(i)
  return string.format("arn:aws:detective:%s:%s:graph:%032x", REGION, DETECTIVE_INVITERS[i], 0xd0 + i)
end
-- the simulator's NextToken after the first two (it is deterministic: both simulators make the same)
local DETECTIVE_TOKEN = require("invite.sim.rest").encode_token("invitations", "detective", REGION, ME,
  DETECTIVE_INVITERS[2] .. "/" .. GRAPH(2))
local UUID4 = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

local function fixture()
  local invitations = {}
  local inviters = { "210987654321", "333344445555", "444455556666", "555566667777", "666677778888" }
  for _, svc in ipairs{ "macie2", "securityhub", "guardduty" } do
    for i, inviter in ipairs(inviters) do
      invitations[#invitations + 1] = { service = svc, region = REGION, account = ME, inviter = inviter,
        id = svc .. "-inv-" .. i, invited_at = string.format("2026-01-%02dT10:00:00Z", i) }
    end
  end
  -- AWS RAM's resource-share invitations (the fixture hook's fields)
  for i, inviter in ipairs{ "210987654321", "333344445555", "444455556666" } do
    invitations[#invitations + 1] = { service = "ram", region = REGION, account = ME, inviter = inviter,
      id = RAM_ARN(i),
      invited_at = string.format("2026-02-%02dT10:00:00Z", i), share_name = "share-" .. i,
      status = i == 3 and "EXPIRED" or nil,
      resources = { string.format("arn:aws:ec2:%s:%s:subnet/subnet-%017d", REGION, inviter, i),
                    string.format("arn:aws:ec2:%s:%s:transit-gateway/tgw-%017d", REGION, inviter, i) } }
  end
  -- AWS Organizations handshakes (global; no organisation in this fixture, so ME may accept an INVITE)
  for i, inviter in ipairs{ "210987654321", "333344445555", "444455556666" } do
    invitations[#invitations + 1] = { service = "organizations", account = ME, inviter = inviter,
      id = ("h-parity%08d"):format(i), invited_at = ("2026-03-%02dT10:00:00Z"):format(i),
      organization_id = ("o-parityorg%d"):format(i), action = i == 3 and "ENABLE_ALL_FEATURES" or nil,
      notes = i == 1 and "parity" or nil }
  end
  -- Amazon Detective (the fixture hook's fields): 3 INVITED, the 4th ENABLED
  for i, inviter in ipairs(DETECTIVE_INVITERS) do
    invitations[#invitations + 1] = { service = "detective", region = REGION, account = ME, inviter = inviter,
      id = GRAPH(i), invited_at = ("2026-04-%02dT10:00:00Z"):format(i), status = i == 4 and "ENABLED" or nil,
      email = i == 1 and "me@example.com" or nil }
  end
  return {
    accounts = { { id = ME, name = "me", access_keys = { KEY } } },
    detectors = { { account = ME, region = REGION, id = DETECTOR } },
    invitations = invitations,
  }
end

-- One call list per service, in boto3's own parameter names (the same table goes to both).
local CALLS = {
  { service = "macie2", op = "get_invitations_count" },
  { service = "macie2", op = "list_invitations", params = { maxResults = 2 }, paginate = true },
  { service = "macie2", op = "decline_invitations", params = { accountIds = { "210987654321", "999999999999" } } },
  { service = "macie2", op = "delete_invitations", params = { accountIds = { "210987654321" } } },
  { service = "macie2", op = "accept_invitation",
    params = { administratorAccountId = "333344445555", invitationId = "macie2-inv-2" } },
  { service = "macie2", op = "get_administrator_account" },
  { service = "macie2", op = "get_master_account" },
  { service = "macie2", op = "disassociate_from_administrator_account" },
  { service = "macie2", op = "disassociate_from_master_account" },
  { service = "securityhub", op = "get_invitations_count" },
  { service = "securityhub", op = "list_invitations", params = { MaxResults = 2 }, paginate = true },
  { service = "securityhub", op = "decline_invitations", params = { AccountIds = { "210987654321" } } },
  { service = "securityhub", op = "delete_invitations", params = { AccountIds = { "210987654321", "999999999999" } } },
  { service = "securityhub", op = "accept_administrator_invitation",
    params = { AdministratorId = "333344445555", InvitationId = "securityhub-inv-2" } },
  { service = "securityhub", op = "get_administrator_account" },
  { service = "securityhub", op = "get_master_account" },
  { service = "securityhub", op = "disassociate_from_administrator_account" },
  { service = "securityhub", op = "accept_invitation",
    params = { MasterId = "444455556666", InvitationId = "securityhub-inv-3" } },
  { service = "securityhub", op = "disassociate_from_master_account" },
  { service = "guardduty", op = "list_detectors", params = {}, paginate = true },
  { service = "guardduty", op = "get_invitations_count" },
  { service = "guardduty", op = "list_invitations", params = { MaxResults = 2 }, paginate = true },
  { service = "guardduty", op = "decline_invitations", params = { AccountIds = { "210987654321" } } },
  { service = "guardduty", op = "delete_invitations", params = { AccountIds = { "210987654321", "999999999999" } } },
  { service = "guardduty", op = "accept_administrator_invitation",
    params = { DetectorId = DETECTOR, AdministratorId = "333344445555", InvitationId = "guardduty-inv-2" } },
  { service = "guardduty", op = "get_administrator_account", params = { DetectorId = DETECTOR } },
  { service = "guardduty", op = "get_master_account", params = { DetectorId = DETECTOR } },
  { service = "guardduty", op = "disassociate_from_administrator_account", params = { DetectorId = DETECTOR } },
  { service = "guardduty", op = "accept_invitation",
    params = { DetectorId = DETECTOR, MasterId = "444455556666", InvitationId = "guardduty-inv-3" } },
  { service = "guardduty", op = "disassociate_from_master_account", params = { DetectorId = DETECTOR } },
  { service = "ram", op = "get_resource_share_invitations", params = { maxResults = 1 }, paginate = true },
  { service = "ram", op = "get_resource_share_invitations",
    params = { resourceShareInvitationArns = { RAM_ARN(2) }, resourceShareArns = { RAM_SHARE(2) } } },
  { service = "ram", op = "list_pending_invitation_resources",
    params = { resourceShareInvitationArn = RAM_ARN(1), maxResults = 1, resourceRegionScope = "ALL" } },
  { service = "ram", op = "accept_resource_share_invitation",
    params = { resourceShareInvitationArn = RAM_ARN(1), clientToken = "parity-token-1" } },
  { service = "ram", op = "accept_resource_share_invitation",
    params = { resourceShareInvitationArn = RAM_ARN(1), clientToken = "parity-token-1" } },
  { service = "ram", op = "reject_resource_share_invitation",
    params = { resourceShareInvitationArn = RAM_ARN(1), clientToken = "parity-token-1" } },
  { service = "organizations", op = "list_handshakes_for_account", params = { MaxResults = 1 }, paginate = true },
  { service = "organizations", op = "list_handshakes_for_account",
    params = { Filter = { ActionType = "ENABLE_ALL_FEATURES" } } },
  { service = "organizations", op = "describe_handshake", params = { HandshakeId = "h-parity00000001" } },
  { service = "organizations", op = "accept_handshake", params = { HandshakeId = "h-parity00000001" } },
  { service = "organizations", op = "accept_handshake", params = { HandshakeId = "h-parity00000001" } },
  { service = "organizations", op = "decline_handshake", params = { HandshakeId = "h-parity00000002" } },
  { service = "organizations", op = "accept_handshake", params = { HandshakeId = "h-parity00000002" } },
  { service = "organizations", op = "describe_handshake", params = { HandshakeId = "h-nosuchhandshake1" } },
  { service = "detective", op = "list_invitations", params = { MaxResults = 2 } },
  { service = "detective", op = "list_invitations", params = { MaxResults = 2, NextToken = DETECTIVE_TOKEN } },
  { service = "detective", op = "list_invitations" },
  { service = "detective", op = "accept_invitation", params = { GraphArn = GRAPH(1) } },
  { service = "detective", op = "accept_invitation", params = { GraphArn = GRAPH(1) } },
  { service = "detective", op = "reject_invitation", params = { GraphArn = GRAPH(2) } },
  { service = "detective", op = "reject_invitation", params = { GraphArn = GRAPH(2) } },
  { service = "detective", op = "reject_invitation", params = { GraphArn = GRAPH(4) } },
  { service = "detective", op = "disassociate_membership", params = { GraphArn = GRAPH(4) } },
  { service = "detective", op = "disassociate_membership", params = { GraphArn = GRAPH(3) } },
  { service = "detective", op = "list_invitations", params = { MaxResults = 200 },
    changed_at = { UpdatedTime = true, VolumeUsageUpdateTime = true } },
  -- the one difference (token_made): boto3 sends no clientToken (RAM's model does not mark it
  -- idempotencyToken), invite sends a UUID v4 (docs/clients.md, "Idempotency tokens")
  { service = "ram", op = "accept_resource_share_invitation", params = { resourceShareInvitationArn = RAM_ARN(3) },
    token_made = "clientToken" },
  { service = "ram", op = "reject_resource_share_invitation", params = { resourceShareInvitationArn = RAM_ARN(2) },
    token_made = "clientToken" },
}

local function tmpname(suffix)
  local p = os.tmpname()
  os.remove(p)
  return p .. suffix
end

local function run_boto3(endpoint)
  local script = tmpname(".py")
  local input = tmpname(".json")
  local f = assert(io.open(script, "w")); f:write(PY); f:close()
  f = assert(io.open(input, "w"))
  f:write(cjson.encode{ endpoint = endpoint, region = REGION, access_key = KEY.id, secret_key = KEY.secret,
    calls = CALLS })
  f:close()
  local p = assert(io.popen("env -u LD_PRELOAD -u AWS_PROFILE -u AWS_CONFIG_FILE AWS_EC2_METADATA_DISABLED=true "
    .. "/usr/bin/python3 " .. script .. " < " .. input .. " 2>&1"))
  local out = p:read("*a")
  p:close()
  os.remove(script)
  os.remove(input)
  local ok, res = pcall(cjson.decode, out)
  assert(ok and type(res) == "table", "boto3 driver failed: " .. out)
  return res
end

-- invite's side: the same calls through a transport that records what it sends.
local function run_invite(endpoint)
  local base = transport.new("curl", { connect_timeout_ms = 5000, timeout_ms = 10000 })
  local captured = {}
  local capture = { kind = "capture", request = function(_, req)
    captured[#captured + 1] = { method = req.method, url = req.url, body = req.body or "" }
    return base:request(req)
  end }
  local clients = {}
  local out = {}
  for _, call in ipairs(CALLS) do
    local c = clients[call.service]
    if not c then
      c = invite[call.service].client{ region = REGION, endpoint = endpoint, transport = capture, max_attempts = 1,
        credentials = { access_key_id = KEY.id, secret_access_key = KEY.secret } }
      clients[call.service] = c
    end
    for i = #captured, 1, -1 do captured[i] = nil end
    local entry = {}
    if call.paginate then
      local pages = {}
      for page, err in c:paginate(call.op, call.params) do
        if not page then entry.code, entry.status = err.code, err.status; break end
        pages[#pages + 1] = page
      end
      if not entry.code then entry.status, entry.result = 200, pages end
    else
      local res, err = c[call.op](c, call.params or {})
      if res then
        entry.status, entry.result = res.ResponseMetadata.HTTPStatusCode, res
      else
        entry.status, entry.code = err.status, err.code
      end
    end
    local reqs = {}
    for i, r in ipairs(captured) do reqs[i] = r end
    entry.requests = reqs
    out[#out + 1] = entry
  end
  return out
end

local function unescape(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- url -> path, sorted decoded query pairs
local function split_url(url)
  local path, query = url:match("^https?://[^/]+([^?]*)%??(.*)$")
  local pairs_ = {}
  for kv in query:gmatch("[^&]+") do
    local k, v = kv:match("^([^=]*)=?(.*)$")
    pairs_[#pairs_ + 1] = unescape(k) .. "=" .. unescape(v)
  end
  table.sort(pairs_)
  return path, pairs_
end

local function days_from_civil(y, m, d)
  y = (m <= 2) and (y - 1) or y
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
end

-- invite's response as boto3 shows it: no ResponseMetadata; ISO timestamps of macie2 and
-- securityhub as epochs (boto3 makes datetimes of them; GuardDuty's are plain strings).
local TIMESTAMP = { invitedAt = "macie2", InvitedAt = "securityhub", invitationTimestamp = "ram", creationTime = "ram",
  lastUpdatedTime = "ram", RequestedTimestamp = "organizations", ExpirationTimestamp = "organizations",
  InvitedTime = "detective", UpdatedTime = "detective", VolumeUsageUpdateTime = "detective" }
local function plain(v, service)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do
    if k ~= "ResponseMetadata" then
      if TIMESTAMP[k] == service and type(x) == "string" then
        local y, mo, d, h, mi, s = x:match("^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)")
        x = { epoch = days_from_civil(tonumber(y), tonumber(mo), tonumber(d)) * 86400 + h * 3600 + mi * 60 + s }
      end
      out[k] = plain(x, service)
    end
  end
  return out
end

describe("invite and boto3 send the same requests", function()
  local sims, got_invite, got_boto3 = {}, nil, nil

  setup(function()
    sims[1] = sim.start{ fixtures = fixture(), seed = 1 }
    sims[2] = sim.start{ fixtures = fixture(), seed = 1 }
    got_invite = run_invite(sims[1].endpoint)
    got_boto3 = run_boto3(sims[2].endpoint)
  end)

  teardown(function()
    for _, s in ipairs(sims) do s:stop() end
  end)

  it("ran every call on both sides", function()
    assert.are.equal(#CALLS, #got_invite)
    assert.are.equal(#CALLS, #got_boto3)
  end)

  for i, call in ipairs(CALLS) do
    local label = call.service .. " " .. call.op .. (call.paginate and " (paginated)" or "")
    it(label .. ": same method, path, query and JSON body", function()
      local a, b = got_invite[i], got_boto3[i]
      assert.are.equal(#b.requests, #a.requests, "number of requests")
      assert.is_true(#a.requests >= 1)
      for j = 1, #a.requests do
        local ra, rb = a.requests[j], b.requests[j]
        assert.are.equal(rb.method, ra.method)
        local pa, qa = split_url(ra.url)
        local pb, qb = split_url(rb.url)
        assert.are.equal(pb, pa)
        assert.are.same(qb, qa)
        if rb.body == "" then
          assert.are.equal("", ra.body)
        else
          local ja, jb = cjson.decode(ra.body), cjson.decode(rb.body)
          if call.token_made then
            assert.is_nil(jb[call.token_made], "boto3 makes no " .. call.token_made)
            assert.truthy(tostring(ja[call.token_made]):find(UUID4), "invite's " .. call.token_made)
            ja[call.token_made] = nil
          end
          assert.are.same(jb, ja)
        end
      end
    end)
    it(label .. ": same answer in the same boto3 names", function()
      local a, b = got_invite[i], got_boto3[i]
      assert.are.equal(b.status, a.status)
      assert.are.equal(b.code, a.code)
      if b.result then
        local pa = plain(a.result, call.service)
        if call.token_made then
          -- each side's answer echoes its own token (boto3's: the one the simulator made)
          assert.is_string(b.result[call.token_made])
          assert.equal(cjson.decode(a.requests[1].body)[call.token_made], pa[call.token_made])
          b.result[call.token_made], pa[call.token_made] = nil, nil
        end
        if call.changed_at then
          -- the time a change was made: each simulator's own clock when that side's call ran
          local function strip(v)
            if type(v) ~= "table" then return end
            for k, x in pairs(v) do
              if call.changed_at[k] then v[k] = nil else strip(x) end
            end
          end
          strip(b.result)
          strip(pa)
        end
        assert.are.same(b.result, pa)
      end
    end)
  end

  it("paginated calls really went over several pages", function()
    for i, call in ipairs(CALLS) do
      if call.paginate and (call.op == "list_invitations" or call.op == "get_resource_share_invitations"
          or call.op == "list_handshakes_for_account") then
        assert.is_true(#got_invite[i].requests >= 3, call.service .. " pages: " .. #got_invite[i].requests)
      end
    end
  end)
end)
