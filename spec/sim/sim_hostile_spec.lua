-- invite sim: the hostile and broken server faults (lost, endless-pages, bigpage, bigbody,
-- bigbody-nolength, bigmessage, echo-secrets, malformed-unprocessed, malformed-invitation,
-- escape). Each is met through a real invite client (what the caller sees) and, where the exact
-- bytes matter, through a signed request read off the wire (what the server sent).
local cjson = require "cjson.safe"
local sim = require "support.sim"
local invite = require "invite"
local faults = require "invite.sim.faults"

local PROD, ADMIN = "222222222222", "111111111111"
local SERVICES = { "macie2", "securityhub", "guardduty" }
local LIST = { macie2 = "/invitations", securityhub = "/invitations", guardduty = "/invitation" }
local DECLINE = { macie2 = "/invitations/decline", securityhub = "/invitations/decline",
                  guardduty = "/invitation/decline" }
local COUNT = { macie2 = "/invitations/count", securityhub = "/invitations/count", guardduty = "/invitation/count" }
-- member names as the invite client hands them out (guardduty's are botocore's PascalCase)
local OUT = {
  macie2 = { list = "invitations", account = "accountId", id = "invitationId", at = "invitedAt",
             token = "nextToken", un = "unprocessedAccounts", ids = "accountIds", count = "invitationsCount" },
  securityhub = { list = "Invitations", account = "AccountId", id = "InvitationId", at = "InvitedAt",
                  token = "NextToken", un = "UnprocessedAccounts", ids = "AccountIds", count = "InvitationsCount" },
  guardduty = { list = "Invitations", account = "AccountId", id = "InvitationId", at = "InvitedAt",
                token = "NextToken", un = "UnprocessedAccounts", ids = "AccountIds", count = "InvitationsCount" },
}
-- member names on the wire
local WIRE = {
  macie2 = { list = "invitations", account = "accountId", un = "unprocessedAccounts", ids = "accountIds",
             message = "message", count = "invitationsCount" },
  securityhub = { list = "Invitations", account = "AccountId", un = "UnprocessedAccounts", ids = "AccountIds",
                  message = "Message", count = "InvitationsCount" },
  guardduty = { list = "invitations", account = "accountId", un = "unprocessedAccounts", ids = "accountIds",
                message = "message", count = "invitationsCount" },
}
local ESCAPES = "\27]0;pwned\7\27[2J"

describe("invite sim: hostile server faults", function()
  local s

  setup(function() s = sim.start{ seed = 9 } end)
  teardown(function() s:stop() end)
  before_each(function() s:set_faults(""); s:reset(); s:clear_requests() end)

  -- Clients with the same transport settings share libcurl's connection cache, and libcurl resends
  -- a request by itself when a reused connection is reset before any answer: a client with
  -- settings of its own starts on a fresh connection, so the caller sees the reset.
  local fresh_n = 0
  local function fresh()
    fresh_n = fresh_n + 1
    return 20000 + fresh_n
  end

  local function client(service, opts)
    local o = { endpoint = s.endpoint, region = "us-east-1", credentials = sim.credentials("prod"),
                sleep = function() end, random = function() return 0.5 end }
    for k, v in pairs(opts or {}) do o[k] = v end
    return invite[service].client(o)
  end

  -- A signed request on a fresh connection, read to the end: with Content-Length as announced,
  -- without it until the server closes. Returns status, headers (lower-case), body, raw head.
  local function wire(o)
    o.region = o.region or "us-east-1"
    local host = s.host .. ":" .. s.port
    local method, path, query, headers, body = sim.sign(o, host)
    local lines = { method .. " " .. path .. (query ~= "" and ("?" .. query) or "") .. " HTTP/1.1" }
    for _, h in ipairs(headers) do lines[#lines + 1] = h[1] .. ": " .. h[2] end
    lines[#lines + 1] = "Content-Length: " .. #body
    lines[#lines + 1] = "Connection: close"
    local c = s:connect()
    c:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. body)
    local status_line = assert(c:receive("*l"))
    local rh, head = {}, { status_line }
    while true do
      local l = assert(c:receive("*l"))
      if l == "" then break end
      head[#head + 1] = l
      local k, v = l:match("^([^:]+):%s*(.-)%s*$")
      rh[k:lower()] = v
    end
    local rbody
    if rh["content-length"] then
      rbody = assert(c:receive(tonumber(rh["content-length"])))
    else
      rbody = assert(c:receive("*a"))
    end
    c:close()
    return tonumber(status_line:match("^HTTP/1%.1 (%d+)")), rh, rbody, table.concat(head, "\n")
  end

  local function prod_inviters(service)
    local out = {}
    for _, inv in ipairs(s:state().invitations) do
      if inv.service == service and inv.account == PROD and inv.region == "us-east-1" and inv.inviter ~= ADMIN
          and inv.status == "Invited" then
        out[#out + 1] = inv.inviter
      end
    end
    table.sort(out)
    return out
  end

  local function status_of(service, inviter)
    for _, inv in ipairs(s:state().invitations) do
      if inv.service == service and inv.account == PROD and inv.region == "us-east-1" and inv.inviter == inviter then
        return inv.status
      end
    end
    return "gone"
  end

  it("parses each kind and refuses bad values", function()
    local ok = {
      lost = { kind = "lost" }, ["endless-pages"] = { kind = "endless-pages" },
      ["bigpage=1000000"] = { kind = "bigpage", count = 1000000 },
      ["bigbody=1G"] = { kind = "bigbody", bytes = 1073741824 },
      ["bigbody-nolength=64K"] = { kind = "bigbody-nolength", bytes = 65536 },
      ["bigmessage=3M"] = { kind = "bigmessage", bytes = 3145728 },
      ["echo-secrets"] = { kind = "echo-secrets" },
      ["malformed-unprocessed"] = { kind = "malformed-unprocessed", garbage = false },
      ["malformed-unprocessed=garbage"] = { kind = "malformed-unprocessed", garbage = true },
      ["malformed-invitation"] = { kind = "malformed-invitation" }, escape = { kind = "escape" },
    }
    for word, want in pairs(ok) do
      local rules, err = faults.parse("first 1 macie2 region=us-east-1 " .. word)
      assert.is_table(rules, err)
      assert.same(want, rules[1].fault)
    end
    local bad = {
      ["bigpage=0"] = "bigpage needs", ["bigpage=1000001"] = "bigpage needs", bigpage = "bigpage needs",
      ["bigpage=1e3"] = "bigpage needs", ["bigbody=1025M"] = "up to 1G", ["bigbody=-1"] = "bigbody needs",
      ["bigmessage=2G"] = "bigmessage needs", ["bigbody-nolength"] = "bigbody%-nolength needs",
      ["lost=1"] = "takes no value", ["escape=yes"] = "takes no value",
      ["malformed-unprocessed=junk"] = "no value or =garbage",
    }
    for word, want in pairs(bad) do
      local rules, err = faults.parse("macie2 " .. word)
      assert.is_nil(rules)
      assert.matches(want, err)
    end
    local _, err = faults.parse("macie2")
    for _, kind in ipairs{ "lost", "endless%-pages", "bigpage=N", "bigbody=BYTES", "bigbody%-nolength=BYTES",
                           "bigmessage=BYTES", "echo%-secrets", "malformed%-unprocessed%[=garbage%]",
                           "malformed%-invitation", "escape" } do
      assert.matches(kind, err)
    end
  end)

  for _, service in ipairs(SERVICES) do
    local out = OUT[service]

    it(service .. " lost: the delete happens, the answer never comes, the retry finds it gone", function()
      local victim = prod_inviters(service)[1]
      s:set_faults("first 1 " .. service .. ":DeleteInvitations lost")
      local c = client(service, { max_attempts = 1, connect_timeout_ms = fresh() })
      local res, err = c:delete_invitations{ [out.ids] = { victim } }
      assert.is_nil(res)
      assert.equal("ConnectionResetError", err.code)
      assert.equal("gone", status_of(service, victim))
      local log = s:requests()
      assert.same({ "lost", 0, "DeleteInvitations" }, { log[#log].fault, log[#log].status, log[#log].operation })

      -- with retries: the first attempt is lost, the second finds nothing to delete
      s:reset()
      s:set_faults("first 1 " .. service .. ":DeleteInvitations lost")
      res, err = client(service):delete_invitations{ [out.ids] = { victim } }
      assert.is_table(res, tostring(err))
      assert.equal("gone", status_of(service, victim))
      assert.equal(1, #res[out.un])
      assert.equal(victim, res[out.un][1][out.account])
      log = s:requests()
      assert.same({ "lost", 200 }, { log[#log - 1].fault, log[#log].status })
    end)

    it(service .. " endless-pages: an empty page and a fresh next token every time", function()
      s:set_faults(service .. ":ListInvitations endless-pages")
      local c = client(service)
      local seen, token = {}, nil
      for _ = 1, 12 do
        local res = assert(c:list_invitations(token and { [out.token] = token } or {}))
        assert.same({}, res[out.list])
        token = res[out.token]
        assert.is_string(token)
        assert.is_nil(seen[token], "a next token came back twice")
        seen[token] = true
      end
      -- the fault gone, the last token is still accepted: the listing starts over
      s:set_faults("")
      local res = assert(c:list_invitations{ [out.token] = token })
      assert.is_true(#res[out.list] > 0)
      local log = s:requests()
      assert.equal("endless-pages", log[#log - 1].fault)
    end)

    it(service .. " bigpage=N: N distinct synthesised invitations and no next token", function()
      -- (5000 keeps the answer under 1 MiB, a size any client takes; the wire check is bigger)
      s:set_faults("first 1 " .. service .. ":ListInvitations bigpage=5000; "
        .. "first 1 " .. service .. ":ListInvitations bigpage=50000")
      local res = assert(client(service):list_invitations{})
      local list = res[out.list]
      assert.equal(5000, #list)
      assert.is_nil(res[out.token])
      local seen = {}
      for _, inv in ipairs(list) do
        assert.matches("^%d%d%d%d%d%d%d%d%d%d%d%d$", inv[out.account])
        assert.is_nil(seen[inv[out.account]])
        seen[inv[out.account]] = true
        assert.matches("^sim%-bigpage%-%d+$", inv[out.id])
        assert.matches("^%d%d%d%d%-%d%d%-%d%dT", inv[out.at])
      end
      -- on the wire: exactly Content-Length bytes of valid JSON
      local status, headers, body = wire{ service = service, path = LIST[service] }
      assert.equal(200, status)
      assert.equal(#body, tonumber(headers["content-length"]))
      local wired = assert(cjson.decode(body))[WIRE[service].list]
      assert.equal(50000, #wired)
      assert.equal("900000050000", wired[50000][WIRE[service].account])
    end)

    it(service .. " bigbody / bigbody-nolength: a padded answer, with and without Content-Length", function()
      local plain = assert(client(service):get_invitations_count{})[out.count]
      assert.is_number(plain)
      s:set_faults("first 1 " .. service .. ":GetInvitationsCount bigbody=900000; "
        .. "first 1 " .. service .. ":GetInvitationsCount bigbody=3M; "
        .. "first 1 " .. service .. ":GetInvitationsCount bigbody-nolength=900000; "
        .. "first 1 " .. service .. ":GetInvitationsCount bigbody-nolength=5000000")
      -- the client reads the padded answers (under 1 MiB) like the plain one
      local res = assert(client(service):get_invitations_count{})
      assert.equal(plain, res[out.count])
      local status, headers, body = wire{ service = service, path = COUNT[service] }
      assert.equal(200, status)
      assert.same({ 3145728, 3145728 }, { #body, tonumber(headers["content-length"]) })
      assert.equal(plain, assert(cjson.decode(body))[WIRE[service].count])

      res = assert(client(service):get_invitations_count{})
      assert.equal(plain, res[out.count])
      status, headers, body = wire{ service = service, path = COUNT[service] }
      assert.equal(200, status)
      assert.is_nil(headers["content-length"])
      assert.equal("close", headers.connection)
      assert.equal(5000000, #body)
      assert.equal(plain, assert(cjson.decode(body))[WIRE[service].count])
      -- the request log has no bodies
      local log = s:requests()
      assert.same({ "bigbody", "bigbody", "bigbody-nolength", "bigbody-nolength" },
        { log[#log - 3].fault, log[#log - 2].fault, log[#log - 1].fault, log[#log].fault })
      for _, e in ipairs(log) do
        assert.is_true(#assert(cjson.encode(e)) < 4096)
      end
    end)

    it(service .. " bigmessage=BYTES: a 400 BadRequestException whose message is BYTES long", function()
      s:set_faults("first 1 " .. service .. ":GetInvitationsCount bigmessage=500000; "
        .. "first 1 " .. service .. ":GetInvitationsCount bigmessage=2M")
      local res, err = client(service, { max_attempts = 1 }):get_invitations_count{}
      assert.is_nil(res)
      assert.equal("BadRequestException", err.code)
      assert.equal(400, err.status)
      assert.truthy(tostring(err.message):find("invite sim: a message of 500000 bytes xxx", 1, true))
      local status, headers, body = wire{ service = service, path = COUNT[service] }
      assert.equal(400, status)
      assert.equal("BadRequestException", headers["x-amzn-errortype"]:match("^[^:]*"))
      assert.equal(#body, tonumber(headers["content-length"]))
      local msg = assert(cjson.decode(body))[WIRE[service].message]
      assert.equal(2097152, #msg)
      assert.matches("^invite sim: a message of 2097152 bytes x+$", msg)
      local log = s:requests()
      assert.same({ "bigmessage", 400, "BadRequestException" }, { log[#log].fault, log[#log].status, log[#log].error })
    end)

    it(service .. " echo-secrets: the 400's message quotes the session token and Authorization", function()
      local creds = sim.sessions.valid
      assert.is_string(creds.session_token)
      s:set_faults(service .. " echo-secrets")
      local res, err = client(service, { credentials = creds, max_attempts = 1 }):list_invitations{}
      assert.is_nil(res)
      assert.equal("BadRequestException", err.code)
      local host = s.host .. ":" .. s.port
      local _, _, _, sent = sim.sign({ service = service, path = LIST[service], creds = creds }, host)
      local auth
      for _, h in ipairs(sent) do if h[1]:lower() == "authorization" then auth = h[2] end end
      local status, headers, body = wire{ service = service, path = LIST[service], creds = creds }
      assert.equal(400, status)
      assert.equal("BadRequestException", headers["x-amzn-errortype"]:match("^[^:]*"))
      local msg = assert(cjson.decode(body))[WIRE[service].message]
      assert.truthy(msg:find(creds.session_token, 1, true))
      assert.truthy(msg:find("Authorization: AWS4-HMAC-SHA256 Credential=" .. creds.access_key_id, 1, true))
      assert.matches("Signature=%x+$", msg)
      assert.is_string(auth)
      -- the request log never holds them
      local logged = assert(cjson.encode(s:requests()))
      assert.is_nil(logged:find(creds.session_token, 1, true))
      assert.is_nil(logged:find("Signature=", 1, true))
    end)

    it(service .. " malformed-unprocessed: all but the first carried out, its entry has no account ID", function()
      local ids = prod_inviters(service)
      local first, second, third = ids[1], ids[2], ids[3]
      s:set_faults("first 1 " .. service .. ":DeclineInvitations malformed-unprocessed")
      local res = assert(client(service):decline_invitations{ [out.ids] = { first, second } })
      assert.equal(1, #res[out.un])
      assert.is_nil(res[out.un][1][out.account])
      assert.equal("Invited", status_of(service, first))
      assert.equal("Resigned", status_of(service, second))
      local log = s:requests()
      assert.same({ first, second }, log[#log].account_ids)
      assert.equal("malformed-unprocessed", log[#log].fault)

      s:reset()
      s:set_faults("first 1 " .. service .. ":DeclineInvitations malformed-unprocessed")
      local status, _, body = wire{ service = service, method = "POST", path = DECLINE[service],
        body = assert(cjson.encode{ [WIRE[service].ids] = { first, second, first, third } }) }
      assert.equal(200, status)
      local un = assert(cjson.decode(body))[WIRE[service].un]
      assert.equal(1, #un)
      assert.is_nil(un[1][WIRE[service].account])
      local reason = service == "macie2" and { "errorCode", "errorMessage" }
        or { service == "securityhub" and "ProcessingResult" or "result" }
      for _, m in ipairs(reason) do assert.is_string(un[1][m]) end
      assert.same({ "Invited", "Resigned", "Resigned" },
        { status_of(service, first), status_of(service, second), status_of(service, third) })
    end)

    it(service .. " malformed-unprocessed=garbage: the entry is a JSON string", function()
      local ids = prod_inviters(service)
      s:set_faults("first 1 " .. service .. ":DeleteInvitations malformed-unprocessed=garbage")
      local status, _, body = wire{ service = service, method = "POST",
        path = (DECLINE[service]:gsub("decline", "delete")),
        body = assert(cjson.encode{ [WIRE[service].ids] = { ids[1], ids[2] } }) }
      assert.equal(200, status)
      local un = assert(cjson.decode(body))[WIRE[service].un]
      assert.same("string", type(un[1]))
      assert.same({ "Invited", "gone" }, { status_of(service, ids[1]), status_of(service, ids[2]) })
      -- a single ID: nothing is carried out and the answer still has the entry
      s:set_faults("first 1 " .. service .. ":DeleteInvitations malformed-unprocessed=garbage")
      local ok, res, err = pcall(function()
        return client(service):delete_invitations{ [out.ids] = { ids[1] } }
      end)
      assert.is_true(ok, tostring(res))
      assert.is_true(res ~= nil or err ~= nil)
      assert.equal("Invited", status_of(service, ids[1]))
      local log = s:requests()
      assert.same({ ids[1] }, log[#log].account_ids)
    end)

    it(service .. " malformed-invitation: an extra first invitation without an account ID", function()
      local plain = #assert(client(service):list_invitations{})[out.list]
      s:set_faults("first 1 " .. service .. ":ListInvitations malformed-invitation")
      local list = assert(client(service):list_invitations{})[out.list]
      assert.equal(plain + 1, #list)
      assert.is_nil(list[1][out.account])
      assert.equal("sim-malformed-invitation", list[1][out.id])
      assert.is_string(list[1][out.at])
      for i = 2, #list do assert.matches("^%d+$", list[i][out.account]) end
    end)

    it(service .. " escape: invitation IDs and invitedAt end in terminal escape sequences", function()
      s:set_faults("first 1 " .. service .. ":ListInvitations escape")
      local list = assert(client(service):list_invitations{})[out.list]
      assert.is_true(#list > 0)
      for _, inv in ipairs(list) do
        assert.equal(ESCAPES, inv[out.id]:sub(-#ESCAPES))
        assert.equal(ESCAPES, inv[out.at]:sub(-#ESCAPES))
        assert.matches("^%d+$", inv[out.account])
      end
      s:set_faults("first 1 " .. service .. ":ListInvitations escape")
      local _, _, body = wire{ service = service, path = LIST[service] }
      assert.truthy(body:find("\\u001b]0;pwned\\u0007\\u001b[2J", 1, true))
      assert.is_nil(body:find("\27", 1, true))
    end)
  end

  it("sts: bigmessage and echo-secrets answer as STS does (XML ValidationError)", function()
    s:set_faults("first 1 sts bigmessage=100000; first 1 sts echo-secrets")
    local o = { service = "sts", method = "POST", path = "/", body = "Action=GetCallerIdentity&Version=2011-06-15",
                content_type = "application/x-www-form-urlencoded; charset=utf-8" }
    local status, headers, body = wire(o)
    assert.equal(400, status)
    assert.equal(#body, tonumber(headers["content-length"]))
    local msg = body:match("<Message>(.-)</Message>")
    assert.equal(100000, #msg)
    assert.equal("ValidationError", body:match("<Code>(.-)</Code>"))
    local status2, _, body2 = wire(o)
    assert.equal(400, status2)
    assert.matches("Authorization: AWS4%-HMAC%-SHA256 Credential=", body2)
  end)

  it("keeps a connection alive after a streamed answer: a pipelined request is answered next", function()
    s:set_faults("first 1 macie2:GetInvitationsCount bigbody=300000")
    local host = s.host .. ":" .. s.port
    local bytes = {}
    for _ = 1, 2 do
      local method, path, _, headers = sim.sign({ service = "macie2", path = COUNT.macie2 }, host)
      local lines = { method .. " " .. path .. " HTTP/1.1" }
      for _, h in ipairs(headers) do lines[#lines + 1] = h[1] .. ": " .. h[2] end
      bytes[#bytes + 1] = table.concat(lines, "\r\n") .. "\r\nContent-Length: 0\r\n\r\n"
    end
    local c = s:connect()
    c:send(table.concat(bytes))
    local st1, h1, b1 = sim.read_response(c)
    local st2, h2, b2 = sim.read_response(c)
    c:close()
    assert.same({ 200, 300000, 300000 }, { st1, #b1, tonumber(h1["content-length"]) })
    assert.same({ 200, #b2 }, { st2, tonumber(h2["content-length"]) })
    assert.same(cjson.decode(b1), cjson.decode(b2))
  end)

  it("cuts long strings in the request log", function()
    local r = assert(s:call{ service = "macie2", path = COUNT.macie2, query = "x=" .. ("a"):rep(10000) })
    assert.equal(200, r.status)
    local log = s:requests()
    local q = log[#log].query
    assert.is_true(#q < 2200)
    assert.matches("%.%.%.%(%d+ more bytes%)$", q)
  end)
end)
