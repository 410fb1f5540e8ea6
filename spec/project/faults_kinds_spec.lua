-- The fault matrix of the three invitation kinds acted on one invitation at a time (Amazon
-- Detective, AWS Organizations handshakes, AWS RAM resource-share invitations; issue 18), with the
-- rigor of spec/project/faults_spec.lua:
--   (1) single client calls (each kind's decline operation and its list operation) under every
--       simulator fault: transient -> retried, and the request log shows the attempts and the state
--       changed once; permanent -> nil, err with the code, status and retryable flag the simulator's
--       module for that service sends (each its own throttling and internal error codes);
--   (2) a whole invite.run apply over the three kinds with an audit log under each fault: every
--       invitation ends in exactly one outcome in the report and in the audit log, every mutating
--       request the simulator saw was recorded (a `call` line with its invitation_id) before it
--       reached the simulator, and the simulator's state agrees with the report;
--   (3) lost answers (the fault strikes after the operation ran): a retried RAM reject is answered
--       from its clientToken, a retried handshake decline is HandshakeAlreadyInStateException, a
--       retried Detective reject is ResourceNotFoundException and the scope is listed again;
--   (4) hostile listings (endless next tokens, an oversized page, a malformed invitation), for
--       each kind the simulator can shape (the others pending, saying why);
--   (5) an audit log failing after 0, 1, 3 and 6 lines.
-- The matrix and its count are printed at the end.
local sim = require "support.sim"
local invite = require "invite"
local runner = require "invite.runner"
local audit_mod = require "invite.audit"
local cjson = require "cjson"

local ME = "222222222222"
local REGION = "us-east-1"
local KEY = { id = "AKIAFAULTKINDSSPEC01", secret = "faults/kinds/spec/secret/0123456789abcdef" }
local CREDS = { access_key_id = KEY.id, secret_access_key = KEY.secret }
local SERVICES = { "detective", "organizations", "ram" }

-- The inviter's second digit encodes what the policy does; the last digit which kind it is.
local ACTIONS = { "keep", "decline", "decline_and_delete", "delete" }
local function inviter(action_index, kind_index) return string.format("3%d%010d", action_index, kind_index) end
local policy = function(inv) return ACTIONS[tonumber(inv.account_id:sub(2, 2))], "fault matrix policy" end

-- What each kind is on the wire, as invite.sim.<service> sends it: the throttling fault is 429 with
-- the module's throttle code (Organizations: 400 TooManyRequestsException, as AWS sends it), 500 its
-- internal error code, 503 ServiceUnavailableException.
local KINDS = {
  detective = {
    index = 1, decline = "RejectInvitation", list = "ListInvitations",
    decline_call = function(c, id) return c:reject_invitation{ GraphArn = id } end,
    list_call = function(c) return c:list_invitations{} end, list_member = "Invitations",
    throttle = { 429, "TooManyRequestsException" }, internal = "InternalServerException",
    id = function(k) return ("arn:aws:detective:%s:%s:graph:%032x"):format(REGION, inviter(k, 1), k) end,
    declined = function(st) return st == nil end, open = "INVITED",
  },
  organizations = {
    index = 2, decline = "DeclineHandshake", list = "ListHandshakesForAccount",
    decline_call = function(c, id) return c:decline_handshake{ HandshakeId = id } end,
    list_call = function(c) return c:list_handshakes_for_account{} end, list_member = "Handshakes",
    throttle = { 400, "TooManyRequestsException" }, internal = "ServiceException",
    id = function(k) return ("h-faultkind%d0002"):format(k) end,
    declined = function(st) return st == "DECLINED" end, open = "OPEN",
  },
  ram = {
    index = 3, decline = "RejectResourceShareInvitation", list = "GetResourceShareInvitations",
    decline_call = function(c, id) return c:reject_resource_share_invitation{ resourceShareInvitationArn = id } end,
    list_call = function(c) return c:get_resource_share_invitations{} end, list_member = "resourceShareInvitations",
    throttle = { 429, "ThrottlingException" }, internal = "ServerInternalException",
    id = function(k)
      return ("arn:aws:ram:%s:%s:resource-share-invitation/0000000%d-0000-4000-8000-000000000003")
        :format(REGION, inviter(k, 3), k)
    end,
    declined = function(st) return st == "REJECTED" end, open = "PENDING",
  },
}
local MUTATING = { RejectInvitation = true, AcceptInvitation = true, DeclineHandshake = true, AcceptHandshake = true,
                   RejectResourceShareInvitation = true, AcceptResourceShareInvitation = true }

-- `before`: the fault strikes before the operation runs (state unchanged); the others after it (the
-- server did the work, the client cannot tell). `code`/`status`/`kind`: what a permanent fault is.
local FAULTS = {
  { name = "throttle", word = "throttle", before = true, code = function(k) return KINDS[k].throttle[2] end,
    status = function(k) return KINDS[k].throttle[1] end },
  { name = "throttle + Retry-After", word = "throttle=1", before = true,
    code = function(k) return KINDS[k].throttle[2] end, status = function(k) return KINDS[k].throttle[1] end },
  { name = "500", word = "500", before = true, code = function(k) return KINDS[k].internal end,
    status = function() return 500 end },
  { name = "503", word = "503", before = true, code = function() return "ServiceUnavailableException" end,
    status = function() return 503 end },
  { name = "503 + Retry-After", word = "503=1", before = true,
    code = function() return "ServiceUnavailableException" end, status = function() return 503 end },
  { name = "connection reset", word = "reset", before = true, kind = "reset",
    code = function() return "ConnectionResetError" end, status = function() return nil end },
  { name = "timeout", word = "latency=900", before = false, kind = "timeout", timeout_ms = 300,
    code = function() return "RequestTimeoutError" end, status = function() return nil end },
  { name = "truncated body", word = "truncate", before = false, kind = "reset",
    code = function() return "ConnectionResetError" end, status = function() return nil end },
  { name = "invalid JSON", word = "badjson", before = false, code = function() return "InvalidResponse" end,
    status = function() return 200 end },
}
local function logged_fault(f) return f.word:match("^latency") and "latency" or f.word:match("^[^=]+") end

-- An invalid-JSON fault strikes after the operation ran, so a retried Detective reject or handshake
-- decline is answered with an error (not found; already declined) whose body is cut too: Detective's
-- code is in x-amzn-ErrorType and survives (ResourceNotFoundException, 404), Organizations' is only in
-- the body (json 1.1 __type), so the client sees BadRequest (HTTP 400). Both are 4xx, not retried:
-- the call ends after 2 attempts. RAM answers a retry from its clientToken (the same 200, cut again).
local CUT_SECOND = {
  detective = { code = "ResourceNotFoundException", status = 404 },
  organizations = { code = "BadRequest", status = 400 },
}
local function cut_second(service, f) return f.word == "badjson" and CUT_SECOND[service] or nil end

local function fixture()
  local invitations = {}
  for _, svc in ipairs(SERVICES) do
    local k = KINDS[svc]
    for a = 1, #ACTIONS do
      local inv = { service = svc, region = REGION, account = ME, inviter = inviter(a, k.index), id = k.id(a),
                    invited_at = "now-10d" }
      if svc == "organizations" then
        inv.region, inv.action = nil, "INVITE"
      elseif svc == "ram" then
        inv.share_name = "share-" .. a
        inv.resources = { "arn:aws:ec2:" .. REGION .. ":" .. inv.inviter .. ":subnet/subnet-0a1b2c3d4e5f6071" .. a }
      end
      invitations[#invitations + 1] = inv
    end
  end
  return { accounts = { { id = ME, name = "member", access_keys = { KEY } } }, invitations = invitations }
end
local FIXTURE = fixture()

-- every invitation of the fixture by ID: its service, the policy's action, its inviter
local WANT, N = {}, 0
for _, inv in ipairs(FIXTURE.invitations) do
  WANT[inv.id] = { service = inv.service, action = ACTIONS[tonumber(inv.inviter:sub(2, 2))], inviter = inv.inviter }
  N = N + 1
end
-- a mutating request's invitation, from the IDs the simulator logs (Detective and RAM: the
-- inviter; Organizations: the handshake ID)
local function invitation_of(e)
  local logged = e.account_ids and e.account_ids[1]
  for id, w in pairs(WANT) do
    if w.service == e.service and (w.inviter == logged or id == logged) then return id end
  end
  return nil
end

local fresh_handle = 30000
local function fresh() fresh_handle = fresh_handle + 1; return fresh_handle end

local function status_of(state)
  local st = {}
  for _, inv in ipairs(state.invitations) do st[inv.id] = inv.status end
  return st
end

local function requests_of(log, operation)
  local out = {}
  for _, e in ipairs(log) do if e.operation == operation then out[#out + 1] = e end end
  return out
end

local function read_audit(path)
  local events = {}
  local text = assert(io.open(path)):read("*a")
  for line in text:gmatch("[^\n]+") do events[#events + 1] = assert(cjson.decode(line)) end
  return events, text
end

local matrix = {}
local function count(part, n) matrix[#matrix + 1] = { part, n } end
local counted = {}
local function case(part) counted[part] = (counted[part] or 0) + 1 end

describe("fault matrix of the one-at-a-time kinds", function()
  local s

  setup(function()
    s = sim.start{ fixtures = FIXTURE, seed = 11 }
  end)
  teardown(function()
    s:stop()
    local names = {}
    for _, f in ipairs(FAULTS) do names[#names + 1] = f.name .. " [" .. f.word .. "]" end
    count(("single calls: %d faults x %d kinds x {decline, list} x {transient, permanent}")
      :format(#FAULTS, #SERVICES), counted[1] or 0)
    count(("invite.run apply over the three kinds: %d faults x {transient decline, permanent decline, first 2 "
      .. "requests of each kind, permanent list}"):format(#FAULTS), counted[2] or 0)
    count("lost answers: {truncate, badjson, timeout, lost} x 3 kinds", counted[3] or 0)
    count("hostile listings: {endless pages, a page over the model, a malformed invitation} x {detective, "
      .. "organizations} (ram: pending, the simulator cannot shape its listing)", counted[4] or 0)
    count("an audit log failing after 0, 1, 3, 6 lines", counted[5] or 0)
    local total = 0
    local lines = { "", "fault matrix of the one-at-a-time kinds (faults: " .. table.concat(names, ", ") .. ")" }
    for _, m in ipairs(matrix) do
      lines[#lines + 1] = ("  %3d  %s"):format(m[2], m[1])
      total = total + m[2]
    end
    lines[#lines + 1] = ("  %3d  cases in all"):format(total)
    io.stderr:write(table.concat(lines, "\n"), "\n")
  end)

  before_each(function()
    s:set_faults("")
    s:reset()
    s:clear_requests()
  end)

  local function client(service, f, extra)
    local o = { region = service == "organizations" and "us-east-1" or REGION, endpoint = s.endpoint,
      credentials = CREDS, sleep = function() end, random = function() return 0.25 end,
      timeout_ms = f and f.timeout_ms, connect_timeout_ms = fresh(), max_attempts = 3 }
    for k, v in pairs(extra or {}) do o[k] = v end
    return invite[service].client(o)
  end

  -------------------------------------------------------------------------------------------------
  describe("(1) single calls", function()
    for _, f in ipairs(FAULTS) do
      for _, service in ipairs(SERVICES) do
        local k = KINDS[service]
        local target = k.id(2)

        case(1)
        it(("%s %s: transient %s (first 2 attempts) is retried"):format(service, k.decline, f.name), function()
          s:set_faults("first 2 " .. service .. ":" .. k.decline .. " " .. f.word)
          local res, err = k.decline_call(client(service, f), target)
          local log = requests_of(s:requests(), k.decline)
          local st = status_of(s:state())[target]
          -- the state changed once, whichever attempt carried it out
          assert.is_true(k.declined(st), tostring(st))
          local cut = cut_second(service, f)
          assert.are.equal(cut and 2 or 3, #log)
          assert.are.equal(logged_fault(f), log[1].fault)
          assert.are.equal(logged_fault(f), log[2].fault)
          if cut then
            assert.is_nil(res)
            assert.are.same({ cut.code, cut.status, false, 2 }, { err.code, err.status, err.retryable, err.attempts })
            return
          end
          assert.is_nil(log[3].fault)
          if f.before or service == "ram" then
            -- before: the third attempt did it; RAM after: the first did, and the retries carry the
            -- same clientToken, so they are answered as the first was
            assert.is_nil(err, tostring(err))
            assert.are.equal(2, res.ResponseMetadata.RetryAttempts)
            assert.are.equal(200, log[3].status)
          elseif service == "detective" then
            -- the first attempt rejected it (a rejected graph is gone): the third is told it does not exist
            assert.is_nil(res)
            assert.are.equal("ResourceNotFoundException", err.code, tostring(err))
            assert.are.equal(404, err.status)
            assert.is_false(err.retryable)
          else
            assert.is_nil(res)
            assert.are.equal("HandshakeAlreadyInStateException", err.code, tostring(err))
            assert.are.equal(400, err.status)
            assert.is_false(err.retryable)
          end
        end)

        case(1)
        it(("%s %s: permanent %s comes back as nil, err"):format(service, k.decline, f.name), function()
          s:set_faults("always " .. service .. ":" .. k.decline .. " " .. f.word)
          local res, err = k.decline_call(client(service, f), target)
          assert.is_nil(res)
          local log = requests_of(s:requests(), k.decline)
          for _, e in ipairs(log) do assert.are.equal(logged_fault(f), e.fault) end
          assert.are.equal(service, err.service)
          assert.are.equal(k.decline, err.operation)
          local line = tostring(err)
          assert.is_nil(line:find("\n"))
          assert.is_nil(line:find(KEY.secret, 1, true))
          local st = status_of(s:state())[target]
          if f.before then
            assert.are.equal(f.code(service), err.code, line)
            assert.are.equal(f.status(service), err.status)
            if f.kind then assert.are.equal(f.kind, err.kind) end
            assert.is_true(err.retryable)
            assert.are.equal(3, err.attempts)
            assert.are.equal(3, #log)
            assert.are.equal(k.open, st)
          elseif cut_second(service, f) then
            assert.is_true(k.declined(st), tostring(st))
            local cut = cut_second(service, f)
            assert.are.same({ cut.code, cut.status, false, 2 }, { err.code, err.status, err.retryable, err.attempts })
            assert.are.equal(2, #log)
          else
            assert.is_true(k.declined(st), tostring(st)) -- the server did it; the client cannot tell
            assert.are.equal(f.code(service), err.code, line)
            assert.is_true(err.retryable)
            assert.are.equal(3, err.attempts)
            assert.are.equal(3, #log)
          end
        end)

        case(1)
        it(("%s %s: transient %s is retried and the listing succeeds"):format(service, k.list, f.name), function()
          s:set_faults("first 2 " .. service .. ":" .. k.list .. " " .. f.word)
          local res, err = k.list_call(client(service, f))
          assert.is_nil(err, tostring(err))
          assert.are.equal(2, res.ResponseMetadata.RetryAttempts)
          assert.is_table(res[k.list_member])
          local log = requests_of(s:requests(), k.list)
          assert.are.equal(3, #log)
          assert.are.equal(logged_fault(f), log[1].fault)
          assert.is_nil(log[3].fault)
          assert.are.equal(200, log[3].status)
        end)

        case(1)
        it(("%s %s: permanent %s comes back as nil, err after 3 attempts"):format(service, k.list, f.name),
          function()
          s:set_faults("always " .. service .. ":" .. k.list .. " " .. f.word)
          local res, err = k.list_call(client(service, f))
          assert.is_nil(res)
          assert.are.equal(f.code(service), err.code, tostring(err))
          assert.are.equal(f.status(service), err.status)
          if f.kind then assert.are.equal(f.kind, err.kind) end
          assert.is_true(err.retryable)
          assert.are.equal(3, err.attempts)
          assert.are.equal(k.list, err.operation)
          if f.status(service) and f.status(service) ~= 200 then assert.is_string(err.request_id) end
          assert.are.equal(3, #requests_of(s:requests(), k.list))
        end)
      end
    end
  end)

  -------------------------------------------------------------------------------------------------
  -- A run whose audit object writes a real audit log and notes, for each `call` line, how many
  -- requests the simulator had seen when it was written: a mutating request must come after it.
  local function run(f, extra)
    local path = os.tmpname()
    local real = assert(audit_mod.open(path, {}))
    local calls = {}
    local fail_after = extra and extra.fail_after
    local writes = 0
    local audit = { write = function(_, ev)
      writes = writes + 1
      if fail_after and writes > fail_after then return nil, "audit: write failed: No space left on device" end
      if ev.event == "call" then
        calls[#calls + 1] = { invitation_id = ev.invitation_id, service = ev.service, operation = ev.operation,
                              seen = #s:requests() }
      end
      return real:write(ev)
    end }
    local report = runner.run{
      policy = policy, apply = true, services = SERVICES, regions = { REGION }, audit = audit, account = ME,
      concurrency = 3, max_pages = extra and extra.max_pages,
      client = function(scope) return client(scope.service, f, { max_pages = extra and extra.max_pages }) end,
    }
    real:close()
    local events, text = read_audit(path)
    os.remove(path)
    return report, events, text, calls
  end

  -- Every mutating request the simulator saw was recorded first: a call line for its invitation,
  -- written when the simulator had seen fewer requests than this one's place in its log.
  local function assert_recorded_first(calls)
    -- calls within a scope are sequential (one scope per kind here), so a request belongs to the
    -- latest call line of its service written before it reached the simulator; where the simulator
    -- logged the invitation (not for an answer a fault replaced) it must be that one
    local mutating = 0
    for i, e in ipairs(s:requests()) do
      if MUTATING[e.operation] then
        mutating = mutating + 1
        local latest
        for _, c in ipairs(calls) do
          if c.service == e.service and c.seen < i then latest = c end
        end
        assert.is_not_nil(latest, e.operation .. " reached the simulator before any call line of " .. e.service)
        assert.is_not_nil(WANT[latest.invitation_id], tostring(latest.invitation_id))
        local logged = invitation_of(e)
        if logged then
          assert.are.equal(logged, latest.invitation_id, e.operation .. ": not the invitation of the latest call line")
        end
      end
    end
    return mutating
  end

  -- One outcome per invitation, in the report and the audit log alike; outcome_for(id, want) -> the
  -- outcome the report must show. Returns the records by invitation ID.
  local function check_accounted(report, events, text, outcome_for, label)
    assert.is_nil(text:find(KEY.secret, 1, true), label .. ": secret in the audit log")
    local seen = {}
    for _, r in ipairs(report.invitations) do
      local id = r.invitation_id
      assert.is_nil(seen[id], label .. ": reported twice: " .. tostring(id))
      assert.is_not_nil(WANT[id], label .. ": not in the fixture: " .. tostring(id))
      assert.is_string(r.outcome)
      assert.are.equal(outcome_for(id, WANT[id], r), r.outcome, label .. ": " .. id .. " " .. WANT[id].action
        .. ": " .. tostring(r.outcome) .. " (" .. tostring(r.detail) .. ")")
      seen[id] = r
    end
    for id in pairs(WANT) do
      if outcome_for(id, WANT[id]) ~= "absent" then assert.is_not_nil(seen[id], label .. ": missing: " .. id) end
    end
    local outcomes = {}
    for _, e in ipairs(events) do
      if e.event == "outcome" then
        assert.is_nil(outcomes[e.invitation_id], label .. ": two outcome lines for " .. tostring(e.invitation_id))
        outcomes[e.invitation_id] = e
      end
    end
    for id, r in pairs(seen) do
      assert.is_not_nil(outcomes[id], label .. ": no outcome line for " .. id)
      assert.are.equal(r.outcome, outcomes[id].outcome, label .. ": audit log and report disagree on " .. id)
    end
    for id in pairs(outcomes) do assert.is_not_nil(seen[id], label .. ": audit outcome not in the report: " .. id) end
    assert.are.equal("end", events[#events].event)
    assert.are.equal(#report.invitations, events[#events].invitations)
    return seen
  end

  -- The simulator agrees with the report: declined -> REJECTED / DECLINED / gone, kept -> open.
  local function check_state(recs)
    local st = status_of(s:state())
    for id, r in pairs(recs) do
      local k = KINDS[r.service]
      if r.outcome == "declined" then assert.is_true(k.declined(st[id]), id .. " " .. tostring(st[id])) end
      if r.outcome == "kept" then assert.are.equal(k.open, st[id], id) end
    end
    return st
  end

  local function done(_, want) return want.action == "keep" and "kept" or "declined" end

  local function rules(head, op_of, word)
    local out = {}
    for _, svc in ipairs(SERVICES) do
      local op = op_of and op_of(KINDS[svc]) or nil
      out[#out + 1] = head .. " " .. svc .. (op and (":" .. op) or "") .. " " .. word
    end
    return table.concat(out, "; ")
  end

  describe("(2) invite.run apply with an audit log", function()
    for _, f in ipairs(FAULTS) do
      case(2)
      it(("transient %s on every kind's decline call: every invitation declined or kept"):format(f.name), function()
        s:set_faults(rules("first 2", function(k) return k.decline end, f.word))
        local report, events, text, calls = run(f)
        -- the one case the runner cannot tell: a handshake declined by the first attempt whose
        -- retry's HandshakeAlreadyInStateException came back cut (BadRequest): an error, unknown
        local recs = check_accounted(report, events, text, function(id, want, r)
          if cut_second(want.service, f) and want.service == "organizations" and r
              and r.detail and r.detail:find("BadRequest (HTTP 400)", 1, true) then
            return "error"
          end
          return done(id, want)
        end, f.name)
        assert.are.same({}, report.errors)
        local cut_errors = 0
        for _, r in pairs(recs) do if r.outcome == "error" then cut_errors = cut_errors + 1 end end
        assert.are.equal(f.word == "badjson" and 1 or 0, cut_errors)
        assert.are.equal(cut_errors > 0 and 1 or 0, runner.exit_code(report))
        assert.is_true(assert_recorded_first(calls) >= 9)
        check_state(recs)
      end)

      case(2)
      it(("permanent %s on every kind's decline call: each outcome agrees with the simulator"):format(f.name),
        function()
        s:set_faults(rules("always", function(k) return k.decline end, f.word))
        local report, events, text, calls = run(f)
        local recs = check_accounted(report, events, text, function(_, want, r)
          if want.action == "keep" then return "kept" end
          if r and r.outcome == "declined" then
            -- only a lost answer told apart by the runner (Detective's gone invitation)
            assert.is_false(f.before)
            assert.matches("already ", r.detail, 1, true)
            return "declined"
          end
          return "error"
        end, f.name)
        for id, r in pairs(recs) do
          if r.outcome == "error" then
            assert.matches("^decline failed: ", r.detail)
            assert.is_nil(r.detail:find(KEY.secret, 1, true), id)
            if f.before then assert.matches(f.code(r.service), r.detail, 1, true) end
          end
        end
        assert.are.equal(1, runner.exit_code(report))
        assert_recorded_first(calls)
        local st = check_state(recs)
        for id, r in pairs(recs) do
          if r.outcome == "error" then
            local k = KINDS[r.service]
            if f.before then assert.are.equal(k.open, st[id], id) else assert.is_true(k.declined(st[id]), id) end
          end
        end
      end)

      case(2)
      it(("the first 2 requests of each kind %s: every invitation declined or kept"):format(f.name), function()
        s:set_faults(rules("first 2", nil, f.word))
        local report, events, text, calls = run(f)
        local recs = check_accounted(report, events, text, done, f.name)
        assert.are.same({}, report.errors)
        assert_recorded_first(calls)
        check_state(recs)
        for _, svc in ipairs(SERVICES) do
          local faulted = 0
          for _, e in ipairs(s:requests()) do if e.service == svc and e.fault then faulted = faulted + 1 end end
          assert.are.equal(2, faulted, svc)
        end
      end)

      case(2)
      it(("permanent %s on RAM's listing: that scope an error, the other kinds done"):format(f.name), function()
        s:set_faults("always ram:GetResourceShareInvitations " .. f.word)
        local report, events, text, calls = run(f)
        check_accounted(report, events, text, function(_, want)
          if want.service == "ram" then return "absent" end
          return done(_, want)
        end, f.name)
        assert.are.equal(1, #report.errors, table.concat(report.errors, "\n"))
        assert.matches("^ram us%-east%-1 " .. ME .. ": list_invitations failed: ", report.errors[1])
        assert.matches(f.code("ram"), report.errors[1], 1, true)
        for _, e in ipairs(s:requests()) do
          assert.is_false(e.service == "ram" and MUTATING[e.operation] == true)
        end
        assert_recorded_first(calls)
      end)
    end
  end)

  -------------------------------------------------------------------------------------------------
  describe("(3) lost answers: the operation ran, its answer did not arrive", function()
    local LOST = { { word = "truncate" }, { word = "badjson" }, { word = "latency=900", timeout_ms = 300 },
                   { word = "lost" } }
    local EXPECT = {
      ram = { second = 200, detail = nil },
      organizations = { second = 400, error = "HandshakeAlreadyInStateException",
                        detail = "already declined when the call arrived (HandshakeAlreadyInStateException)" },
      detective = { second = 404, error = "ResourceNotFoundException",
                    detail = "already gone when the call arrived (ResourceNotFoundException): an earlier attempt "
                      .. "whose answer was lost (or another actor) declined it" },
    }
    for _, f in ipairs(LOST) do
      for _, svc in ipairs(SERVICES) do
        local k = KINDS[svc]
        case(3)
        it(("%s: %s on the first %s: two attempts, declined"):format(svc, f.word, k.decline), function()
          s:set_faults("first 1 " .. svc .. ":" .. k.decline .. " " .. f.word)
          local report, events, text, calls = run(f)
          local recs = check_accounted(report, events, text, done, f.word)
          assert.are.same({}, report.errors)
          assert_recorded_first(calls)
          check_state(recs)
          local log = s:requests()
          local mut = requests_of(log, k.decline)
          local first = invitation_of(mut[1])
          assert.is_not_nil(first)
          -- the invitation struck: two requests, the first faulted, the second answered
          local its = {}
          for _, e in ipairs(mut) do if invitation_of(e) == first then its[#its + 1] = e end end
          assert.are.equal(2, #its)
          assert.is_not_nil(its[1].fault)
          assert.is_nil(its[2].fault)
          assert.are.equal(EXPECT[svc].second, its[2].status)
          assert.are.equal(EXPECT[svc].error, its[2].error)
          local r = recs[first]
          assert.are.equal("declined", r.outcome)
          local want_detail = EXPECT[svc].detail
          if r.action ~= "decline" then
            want_detail = (want_detail and (want_detail .. "; ") or "") .. "declined only: "
              .. require("invite.model").invitations(svc).no_delete
          end
          assert.are.equal(want_detail, r.detail)
          if svc == "detective" then
            -- listed again after the not-found answer: one ListInvitations more than the sweep's
            local lists, after = 0, false
            for _, e in ipairs(log) do
              if e == its[2] then after = true end
              if after and e.operation == "ListInvitations" then lists = lists + 1 end
            end
            assert.are.equal(1, lists)
          end
        end)
      end
    end
  end)

  -------------------------------------------------------------------------------------------------
  describe("(4) hostile listings", function()
    -- the kinds whose listing the simulator can shape: the bound of a page is the model's
    -- (Detective MaxResults 200, Organizations MaxResults 20); the malformed entry names no sender
    -- (Detective: no AdministratorId/MasterId; a handshake: an Arn that is not an ARN, no Resources)
    local SHAPED = {
      { service = "detective", big = 201, bound = "page 1 has 201 Invitations; the model allows at most 200 per page",
        malformed = "sim-malformed-invitation" },
      { service = "organizations", big = 21, bound = "page 1 has 21 Handshakes; the model allows at most 20 per page",
        malformed = "h-simmalformed1" },
    }
    for _, h in ipairs(SHAPED) do
      local svc, k = h.service, KINDS[h.service]
      local function others(_, want)
        if want.service == svc then return "absent" end
        return done(_, want)
      end

      case(4)
      it(svc .. ": endless fresh next tokens stop at max_pages with a PaginationError; nothing acted on", function()
        s:set_faults("always " .. svc .. ":" .. k.list .. " endless-pages")
        local report, events, text, calls = run(nil, { max_pages = 5 })
        check_accounted(report, events, text, others, "endless")
        assert.are.equal(1, #report.errors, table.concat(report.errors, "\n"))
        assert.matches("^" .. svc .. " ", report.errors[1])
        assert.matches("PaginationError", report.errors[1], 1, true)
        assert.matches("more than 5 pages (max_pages)", report.errors[1], 1, true)
        assert.are.equal(5, #requests_of(s:requests(), k.list))
        assert.are.equal(0, #requests_of(s:requests(), k.decline))
        assert_recorded_first(calls)
      end)

      case(4)
      it(("%s: a page of %d (over the model's maximum) is refused; nothing acted on"):format(svc, h.big), function()
        s:set_faults("always " .. svc .. ":" .. k.list .. " bigpage=" .. h.big)
        local report, events, text = run()
        check_accounted(report, events, text, others, "bigpage")
        assert.are.equal(1, #report.errors, table.concat(report.errors, "\n"))
        assert.matches("^" .. svc .. " ", report.errors[1])
        assert.matches(h.bound, report.errors[1], 1, true)
        assert.are.equal(0, #requests_of(s:requests(), k.decline))
      end)

      case(4)
      it(svc .. ": an invitation naming no inviter is malformed, not acted on; its siblings are", function()
        -- on the first page only (the fault adds its entry to every page it strikes; a handshake walk
        -- has two: Organizations' empty first page, then the handshakes)
        s:set_faults("first 1 " .. svc .. ":" .. k.list .. " malformed-invitation")
        local report, events, _, calls = run()
        local bad, rest = {}, {}
        for _, r in ipairs(report.invitations) do
          if r.invitation_id == h.malformed then bad[#bad + 1] = r else rest[#rest + 1] = r end
        end
        assert.are.equal(1, #bad)
        assert.are.equal(svc, bad[1].service)
        assert.are.equal("error", bad[1].outcome)
        assert.are.equal("malformed invitation from the service: it has no account ID; not acted on", bad[1].detail)
        assert.is_nil(bad[1].action)
        local outcome_lines = 0
        for _, e in ipairs(events) do if e.event == "outcome" then outcome_lines = outcome_lines + 1 end end
        assert.are.equal(N + 1, outcome_lines)
        for _, r in ipairs(rest) do
          assert.are.equal(done(nil, WANT[r.invitation_id]), r.outcome, r.invitation_id)
        end
        assert.are.equal(N, #rest)
        assert.are.equal(9, assert_recorded_first(calls)) -- 3 declines per kind, none for the malformed one
        for _, e in ipairs(requests_of(s:requests(), k.decline)) do
          assert.is_nil((e.account_ids or {})[1] == h.malformed or nil)
        end
        assert.are.equal(1, runner.exit_code(report))
      end)
    end

    pending("ram: endless-pages, bigpage and malformed-invitation change nothing in GetResourceShareInvitations "
      .. "(invite.sim's corrupt shapes only ListInvitations/ListDetectors of the rest-served invitation services "
      .. "and asks only own-style modules for shape_fault; RAM is served through invite.sim.rest, so a module hook "
      .. "would need a line in lua/invite/sim/init.lua)")
  end)

  -------------------------------------------------------------------------------------------------
  describe("(5) a failing audit log", function()
    for _, ok_writes in ipairs{ 0, 1, 3, 6 } do
      case(5)
      it(("fails after %d lines: every mutating request recorded first, the rest not sent"):format(ok_writes),
        function()
        local report, _, _, calls = run(nil, { fail_after = ok_writes })
        local mutating = assert_recorded_first(calls)
        if ok_writes == 0 then assert.are.equal(0, mutating) end
        assert.are.equal(1, runner.exit_code(report))
        assert.matches("^audit log: audit: write failed: No space left on device; the run stopped: %d+ invitations"
          .. " acted on before, %d+ not acted on$", report.errors[1])
        -- a scope not started once the log failed lists nothing: "not run", named in the errors
        local listed = #report.invitations
        for _, sc in ipairs(report.scopes) do
          if sc.error then
            assert.matches("^not run: the audit log could not record", sc.error)
          else
            listed = listed - sc.invitations
          end
        end
        assert.are.equal(0, listed)
        local st = status_of(s:state())
        for _, r in ipairs(report.invitations) do
          assert.is_string(r.outcome)
          local k = KINDS[r.service]
          if r.outcome == "declined" then assert.is_true(k.declined(st[r.invitation_id]), r.invitation_id) end
          if r.detail and r.detail:find(" not sent: ", 1, true) then
            assert.matches("not sent: the audit log could not record", r.detail, 1, true)
            assert.are.equal(k.open, st[r.invitation_id], r.invitation_id)
          end
        end
      end)
    end
  end)
end)
