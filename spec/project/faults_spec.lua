-- The fault matrix: every fault the simulator injects (throttling with and without Retry-After,
-- 500, 503 with and without Retry-After, connection reset, timeout, truncated body, invalid JSON)
-- and TLS trust, exercised
--   (1) on single client calls (decline_invitations of each service): a transient fault is
--       retried and the call succeeds, a permanent one comes back as `nil, err` with the right
--       code, status and retryable flag - both proven from the simulator's request log;
--   (2) on a whole policy apply (invite.run, and the `invite apply` CLI with --audit-log): every
--       invitation ends with an outcome in the report AND in the audit log, none missing, none
--       silently dropped, and the simulator's state agrees with what the report claims.
-- The cases are generated from the FAULTS table below; the matrix and its count are printed.
local interp = require "support.interp"
local sim = require "support.sim"
local tls = require "support.tls"
local invite = require "invite"
local runner = require "invite.runner"
local sim_faults = require "invite.sim.faults"
local cjson = require "cjson"

local ME = "222222222222"
local KEY = { id = "AKIAFAULTMATRIXSPEC1", secret = "faults/matrix/spec/secret/0123456789abc" }
local CREDS = { access_key_id = KEY.id, secret_access_key = KEY.secret }
local SERVICES = { "macie2", "securityhub", "guardduty" }
local REGIONS = { "us-east-1", "eu-west-1" }
local BIG_REGION = "us-west-2" -- one guardduty scope with 55 invitations: two batches of <= 50
local IDS = { macie2 = "accountIds", securityhub = "AccountIds", guardduty = "AccountIds" }
local THROTTLE = { macie2 = "ThrottlingException", securityhub = "LimitExceededException",
                   guardduty = "TooManyRequestsException" }
local INTERNAL = { macie2 = "InternalServerException", securityhub = "InternalException",
                   guardduty = "InternalServerErrorException" }

-- The inviter's second digit encodes what the policy does with its invitation.
local ACTIONS = { "keep", "decline", "decline_and_delete", "delete" }
local DONE = { keep = "kept", decline = "declined", decline_and_delete = "declined_and_deleted", delete = "deleted" }
local function inviter(action_index, n) return string.format("3%d%010d", action_index, n) end
local POLICY_SRC = [[
local ACTIONS = { "keep", "decline", "decline_and_delete", "delete" }
return { decide = function(inv)
  return ACTIONS[tonumber(inv.account_id:sub(2, 2))], "fault matrix policy"
end }
]]
local policy = assert(interp.load(POLICY_SRC))()

-- The fault table. `word` is the simulator's fault; `before`: it strikes before the operation
-- runs (state unchanged) rather than after it (the server did the work, the client cannot
-- tell); `delays`: the backoff the client must sleep between three attempts, with random() = 0.25
-- (full jitter 0.25 * 2^(n-1)) or the Retry-After it was given; `code(service)`, `status`,
-- `kind`: what a permanent fault must come back as.
local FAULTS = {
  { name = "throttle", word = "throttle", before = true, delays = { 0.25, 0.5 }, status = 429,
    code = function(svc) return THROTTLE[svc] end },
  { name = "throttle + Retry-After", word = "throttle=1", before = true, delays = { 1, 1 }, status = 429,
    code = function(svc) return THROTTLE[svc] end },
  { name = "500", word = "500", before = true, delays = { 0.25, 0.5 }, status = 500,
    code = function(svc) return INTERNAL[svc] end },
  { name = "503", word = "503", before = true, delays = { 0.25, 0.5 }, status = 503,
    code = function() return "ServiceUnavailableException" end },
  { name = "503 + Retry-After", word = "503=1", before = true, delays = { 1, 1 }, status = 503,
    code = function() return "ServiceUnavailableException" end },
  { name = "connection reset", word = "reset", before = true, delays = { 0.25, 0.5 }, kind = "reset",
    code = function() return "ConnectionResetError" end },
  { name = "timeout", word = "latency=1800", before = false, delays = { 0.25, 0.5 }, kind = "timeout",
    timeout_ms = 600, cli = false, code = function() return "RequestTimeoutError" end },
  { name = "truncated body", word = "truncate", before = false, delays = { 0.25, 0.5 }, kind = "reset",
    code = function() return "ConnectionResetError" end },
  { name = "invalid JSON", word = "badjson", before = false, delays = { 0.25, 0.5 }, status = 200,
    code = function() return "InvalidResponse" end },
}

local function fixture()
  local invitations = {}
  for _, svc in ipairs(SERVICES) do
    for _, region in ipairs(REGIONS) do
      for k = 1, #ACTIONS do
        for n = 1, 2 do
          invitations[#invitations + 1] = { service = svc, region = region, account = ME, inviter = inviter(k, n),
            id = svc .. "-" .. region .. "-" .. inviter(k, n), invited_at = "now-10d" }
        end
      end
    end
  end
  for n = 1, 55 do
    invitations[#invitations + 1] = { service = "guardduty", region = BIG_REGION, account = ME,
      inviter = inviter(2, 100 + n), id = "big-" .. n, invited_at = "now-3d" }
  end
  return { accounts = { { id = ME, name = "member", access_keys = { KEY } } }, invitations = invitations }
end
local FIXTURE = fixture()

local function key(service, region, id) return service .. " " .. region .. " " .. id end

-- The invitations the sweep of `services` x `regions` must account for.
local function expected_keys(services, regions)
  local want, n = {}, 0
  local sset, rset = {}, {}
  for _, s in ipairs(services) do sset[s] = true end
  for _, r in ipairs(regions) do rset[r] = true end
  for _, inv in ipairs(FIXTURE.invitations) do
    if sset[inv.service] and rset[inv.region] then
      want[key(inv.service, inv.region, inv.inviter)] = ACTIONS[tonumber(inv.inviter:sub(2, 2))]
      n = n + 1
    end
  end
  return want, n
end

-- Every connect_timeout_ms value gives the client its own curl handle (transport handles are
-- shared per settings), so a call's first attempt never rides a connection kept alive by an
-- earlier test. That keeps attempt counts exact: libcurl re-sends a request by itself once when
-- a *reused* connection dies before any answer (see docs/simulator.md, reset).
local fresh_handle = 20000
local function fresh() fresh_handle = fresh_handle + 1; return fresh_handle end

local function status_of(state)
  local st = {}
  for _, inv in ipairs(state.invitations) do st[key(inv.service, inv.region, inv.inviter)] = inv.status end
  return st
end

local function read_audit(path)
  local events = {}
  local text = assert(io.open(path)):read("*a")
  for line in text:gmatch("[^\n]+") do events[#events + 1] = assert(cjson.decode(line)) end
  return events, text
end

-- The heart of part (2): every expected invitation is in the report exactly once with an outcome,
-- and the audit log has one decision and one outcome line for it that agree with the report.
-- outcome_for(action, rec) -> the outcome the report must show. Returns the report's records by key.
local function check_accounted(report, audit_path, want, n, outcome_for, label)
  local seen = {}
  for _, r in ipairs(report.invitations) do
    local k = key(r.service, r.region, r.account_id)
    assert.is_nil(seen[k], label .. ": reported twice: " .. k)
    assert.is_not_nil(want[k], label .. ": reported but not in the fixture: " .. k)
    assert.is_string(r.outcome, label .. ": no outcome for " .. k)
    assert.are.equal(outcome_for(want[k], r), r.outcome, label .. ": " .. k .. " " .. want[k] .. ": "
      .. tostring(r.outcome) .. " (" .. tostring(r.detail) .. ")")
    seen[k] = r
  end
  local count = 0
  for k in pairs(want) do
    assert.is_not_nil(seen[k], label .. ": missing from the report: " .. k)
    count = count + 1
  end
  assert.are.equal(n, count)
  assert.are.equal(n, report.totals.invitations)
  local events, text = read_audit(audit_path)
  assert.is_nil(text:find(KEY.secret, 1, true), label .. ": secret in the audit log")
  assert.are.equal("start", events[1].event)
  assert.are.equal("end", events[#events].event)
  assert.are.equal(n, events[#events].invitations)
  local decisions, outcomes = {}, {}
  for _, e in ipairs(events) do
    if e.event == "decision" or e.event == "outcome" then
      local k = key(e.service, e.region, e.account_id)
      local t = e.event == "decision" and decisions or outcomes
      assert.is_nil(t[k], label .. ": two " .. e.event .. " lines for " .. k)
      t[k] = e
    end
  end
  for k, r in pairs(seen) do
    assert.is_not_nil(decisions[k], label .. ": no decision line in the audit log for " .. k)
    assert.are.equal(r.action, decisions[k].action)
    assert.is_not_nil(outcomes[k], label .. ": no outcome line in the audit log for " .. k)
    assert.are.equal(r.outcome, outcomes[k].outcome, label .. ": audit log and report disagree on " .. k)
  end
  for k in pairs(outcomes) do assert.is_not_nil(seen[k], label .. ": audit outcome not in the report: " .. k) end
  return seen, events
end

local function requests_of(log, operation)
  local out = {}
  for _, e in ipairs(log) do if e.operation == operation then out[#out + 1] = e end end
  return out
end

-- Every service x region scope of a whole run sent `attempts` DeclineInvitations requests (with a
-- reset, 1 to 6 requests per attempt: libcurl re-sends by itself on a reused connection that died,
-- up to 5 times).
local function assert_decline_attempts(s, attempts, word)
  local per_scope = {}
  for _, e in ipairs(requests_of(s:requests(), "DeclineInvitations")) do
    local sk = e.service .. " " .. e.region
    per_scope[sk] = (per_scope[sk] or 0) + 1
  end
  for _, svc in ipairs(SERVICES) do
    for _, region in ipairs(REGIONS) do
      local got = per_scope[svc .. " " .. region]
      if word == "reset" then
        assert.is_true(got >= attempts and got <= attempts * 6, svc .. " " .. region .. ": " .. tostring(got))
      else
        assert.are.equal(attempts, got, svc .. " " .. region)
      end
    end
  end
end

local function fault_spec(head, operation, word)
  local rules = {}
  for _, svc in ipairs(SERVICES) do rules[#rules + 1] = head .. " " .. svc .. ":" .. operation .. " " .. word end
  return table.concat(rules, "; ")
end

local exit_code = interp.exit_code

local matrix = {}
local function count(part, n) matrix[#matrix + 1] = { part, n } end
-- the hostile-server cases of part (3) count themselves as they are declared
local hostile_cases = 0
local function hostile_case() hostile_cases = hostile_cases + 1 end

describe("fault matrix", function()
  local s

  setup(function()
    s = sim.start{ fixtures = FIXTURE, seed = 5 }
    local n1 = #FAULTS * #SERVICES * 2
    local n2 = #FAULTS * 2
    local n3 = #FAULTS
    local ncli = 0
    for _, f in ipairs(FAULTS) do if f.cli ~= false then ncli = ncli + 1 end end
    count(("single calls: %d faults x %d services x {transient, permanent}"):format(#FAULTS, #SERVICES), n1)
    count(("invite.run apply, fault on DeclineInvitations: %d faults x {transient, permanent}"):format(#FAULTS), n2)
    count(("invite.run apply, permanent fault on ListInvitations: %d faults"):format(#FAULTS), n3)
    count("invite.run apply, permanent 503 on the second of two batches", 1)
    count(("invite apply CLI --audit-log, permanent fault on DeclineInvitations: %d faults (timeout: no CLI flag)")
      :format(ncli), ncli)
    count("TLS, self-signed: single calls refused by default x 3 services"
      .. " + accepted with ca_bundle / AWS_CA_BUNDLE x {127.0.0.1, localhost}", 7)
    count("TLS, self-signed: invite apply CLI refused by default, accepted with AWS_CA_BUNDLE", 2)
    count(("TLS, trusted: permanent fault on a single call, %d faults"):format(#FAULTS), #FAULTS)
    count("TLS: invite sim refuses bad --tls-cert / --tls-key (5 cases)", 1)
  end)
  teardown(function()
    s:stop()
    -- printed at the end: part (3) counts its cases as busted declares them, after setup
    count("hostile servers (malformed unprocessed entries and invitations, lost answers, endless and oversized"
      .. " pages, oversized bodies and messages, echoed secrets, terminal escapes) and failing audit logs",
      hostile_cases)
    local total = 0
    local lines = { "", "fault matrix (faults: " }
    local names = {}
    for _, f in ipairs(FAULTS) do names[#names + 1] = f.name .. " [" .. f.word .. "]" end
    lines[2] = lines[2] .. table.concat(names, ", ") .. ")"
    for _, m in ipairs(matrix) do
      lines[#lines + 1] = ("  %3d  %s"):format(m[2], m[1])
      total = total + m[2]
    end
    lines[#lines + 1] = ("  %3d  cases in all"):format(total)
    io.stderr:write(table.concat(lines, "\n"), "\n")
  end)

  -------------------------------------------------------------------------------------------------
  describe("(1) single calls", function()
    local slept
    local function client(service, f)
      return invite[service].client{ region = "us-east-1", endpoint = s.endpoint, credentials = CREDS,
        sleep = function(sec) slept[#slept + 1] = sec end, random = function() return 0.25 end,
        timeout_ms = f.timeout_ms, connect_timeout_ms = fresh(), max_attempts = 3 }
    end
    before_each(function()
      slept = {}
      s:set_faults("")
      s:reset()
      s:clear_requests()
    end)

    for _, f in ipairs(FAULTS) do
      for _, service in ipairs(SERVICES) do
        local target = inviter(2, 1)
        local k = key(service, "us-east-1", target)

        it(("%s: transient %s (first 2 attempts) is retried and the decline succeeds"):format(service, f.name),
          function()
          s:set_faults("first 2 " .. service .. ":DeclineInvitations " .. f.word)
          local res, err = client(service, f):decline_invitations{ [IDS[service]] = { target } }
          assert.is_nil(err, tostring(err))
          assert.are.equal(2, res.ResponseMetadata.RetryAttempts)
          assert.are.same({}, res[service == "macie2" and "unprocessedAccounts" or "UnprocessedAccounts"] or {})
          assert.are.same(f.delays, slept)
          local log = requests_of(s:requests(), "DeclineInvitations")
          assert.are.equal(3, #log)
          assert.are.equal(f.word:match("^latency") and "latency" or f.word:match("^[^=]+"), log[1].fault)
          assert.are.equal(log[1].fault, log[2].fault)
          assert.is_nil(log[3].fault)
          assert.are.equal(200, log[3].status)
          assert.are.equal("Resigned", status_of(s:state())[k])
        end)

        it(("%s: permanent %s comes back as nil, err after 3 attempts"):format(service, f.name), function()
          s:set_faults("always " .. service .. ":DeclineInvitations " .. f.word)
          local res, err = client(service, f):decline_invitations{ [IDS[service]] = { target } }
          assert.is_nil(res)
          assert.are.equal(f.code(service), err.code, tostring(err))
          assert.is_true(err.retryable)
          assert.are.equal(3, err.attempts)
          assert.are.equal(f.status, err.status)
          if f.kind then assert.are.equal(f.kind, err.kind) end
          assert.are.equal(service, err.service)
          assert.are.equal("DeclineInvitations", err.operation)
          assert.is_string(err.message)
          local line = tostring(err)
          assert.matches(f.code(service), line, 1, true)
          assert.is_nil(line:find("\n"))
          assert.is_nil(line:find(KEY.secret, 1, true))
          if f.status then
            assert.is_string(err.request_id)
          end
          assert.are.same(f.delays, slept)
          local log = requests_of(s:requests(), "DeclineInvitations")
          assert.are.equal(3, #log)
          for _, e in ipairs(log) do assert.is_not_nil(e.fault) end
          if f.status and f.status ~= 200 then
            assert.are.equal(f.status, log[3].status)
            assert.are.equal(err.request_id, log[3].id)
          end
          -- before the operation: nothing happened; after it: the server declined, the client
          -- could not tell
          assert.are.equal(f.before and "Invited" or "Resigned", status_of(s:state())[k])
        end)
      end
    end
  end)

  -------------------------------------------------------------------------------------------------
  describe("(2) invite.run apply with an audit log", function()
    local audit, slept
    before_each(function()
      audit = os.tmpname()
      slept = 0
      s:set_faults("")
      s:reset()
      s:clear_requests()
    end)
    after_each(function() os.remove(audit) end)

    local function run(f, services, regions)
      return runner.run{
        policy = policy, apply = true, services = services or SERVICES, regions = regions or REGIONS,
        audit_log = audit, concurrency = 4,
        client = function(scope)
          return invite[scope.service].client{ region = scope.region, endpoint = s.endpoint, credentials = CREDS,
            sleep = function() slept = slept + 1 end, random = function() return 0.25 end,
            timeout_ms = f and f.timeout_ms, connect_timeout_ms = fresh(), max_attempts = 3 }
        end,
      }
    end

    for _, f in ipairs(FAULTS) do
      it(("transient %s on every DeclineInvitations: every invitation done, in report and audit log"):format(f.name),
        function()
          s:set_faults(fault_spec("first 2", "DeclineInvitations", f.word))
          local report = run(f)
          local want, n = expected_keys(SERVICES, REGIONS)
          check_accounted(report, audit, want, n, function(action) return DONE[action] end, f.name)
          assert.are.equal(0, #report.errors, table.concat(report.errors, "\n"))
          assert.are.equal(0, runner.exit_code(report))
          -- the first two decline requests of each service failed, then every call succeeded;
          -- each failure cost one retry (one backoff sleep) - except resets: libcurl re-sends by
          -- itself when a reset hits a connection it had reused (and may pick another pooled
          -- one), so resets can be absorbed below invite's retry loop
          local log = requests_of(s:requests(), "DeclineInvitations")
          local faulted = 0
          for _, e in ipairs(log) do if e.fault then faulted = faulted + 1 end end
          assert.are.equal(2 * #SERVICES, faulted)
          if f.word == "reset" then
            assert.is_true(slept <= 2 * #SERVICES, "slept " .. slept)
          else
            assert.are.equal(2 * #SERVICES, slept)
          end
          local st = status_of(s:state())
          for k, action in pairs(want) do
            if action == "decline" then assert.are.equal("Resigned", st[k], k) end
            if action == "decline_and_delete" or action == "delete" then assert.is_nil(st[k], k) end
            if action == "keep" then assert.are.equal("Invited", st[k], k) end
          end
        end)

      it(("permanent %s on every DeclineInvitations: declines reported as errors, the rest done"):format(f.name),
        function()
          s:set_faults(fault_spec("always", "DeclineInvitations", f.word))
          local report = run(f)
          local want, n = expected_keys(SERVICES, REGIONS)
          local recs = check_accounted(report, audit, want, n, function(action)
            if action == "decline" or action == "decline_and_delete" then return "error" end
            return DONE[action]
          end, f.name)
          for k, r in pairs(recs) do
            if r.outcome == "error" then
              assert.matches("decline_invitations failed", r.detail, 1, true)
              assert.matches(f.code(r.service), r.detail, 1, true)
              assert.is_nil(r.detail:find(KEY.secret, 1, true), k)
            end
          end
          assert.are.equal(1, runner.exit_code(report))
          -- three attempts per decline call; with a reset, libcurl re-sends an attempt by itself
          -- when it died on a reused connection, and may pick another pooled one (it gives up
          -- after 5 such re-sends, CONN_MAX_RETRIES): 1 to 6 requests per attempt
          assert_decline_attempts(s, 3, f.word)
          local st = status_of(s:state())
          for k, action in pairs(want) do
            if action == "decline" or action == "decline_and_delete" then
              assert.are.equal(f.before and "Invited" or "Resigned", st[k], k)
            elseif action == "delete" then
              assert.is_nil(st[k], k)
            end
          end
        end)

      it(("permanent %s on guardduty ListInvitations: those scopes reported as errors, the others done")
        :format(f.name), function()
        s:set_faults("always guardduty:ListInvitations " .. f.word)
        local report = run(f)
        local want, n = expected_keys({ "macie2", "securityhub" }, REGIONS)
        check_accounted(report, audit, want, n, function(action) return DONE[action] end, f.name)
        assert.are.equal(#REGIONS, #report.errors, table.concat(report.errors, "\n"))
        for _, e in ipairs(report.errors) do
          assert.matches("^guardduty [%l%d%-]+: list_invitations failed: ", e)
          assert.matches(f.code("guardduty"), e, 1, true)
        end
        local scope_errors = {}
        for _, e in ipairs((read_audit(audit))) do
          if e.event == "scope_error" then
            scope_errors[e.service .. " " .. e.region] = e.error
          end
        end
        for _, region in ipairs(REGIONS) do
          assert.matches(f.code("guardduty"), scope_errors["guardduty " .. region] or "(no scope_error line)", 1, true)
        end
        assert.are.equal(1, runner.exit_code(report))
      end)
    end

    it("a permanent 503 on the second of two batches: the first 50 declined, the last 5 errors", function()
      -- the simulator's own generator picks a seed where the 50% rule spares the first batch and
      -- hits all three attempts of the second
      local spec = "50% guardduty:DeclineInvitations 503"
      local seed
      for candidate = 1, 5000 do
        local engine = sim_faults.new(assert(sim_faults.parse(spec)), candidate)
        local fired = {}
        for i = 1, 4 do
          local d = engine:decide{ service = "guardduty", operation = "DeclineInvitations", region = BIG_REGION,
                                   account = ME }
          fired[i] = d ~= nil and d.fault ~= nil
        end
        if not fired[1] and fired[2] and fired[3] and fired[4] then seed = candidate; break end
      end
      assert.is_not_nil(seed)
      s:set_faults(spec, seed)
      local report = run(nil, { "guardduty" }, { BIG_REGION })
      local log = requests_of(s:requests(), "DeclineInvitations")
      assert.are.equal(4, #log)
      assert.are.equal(200, log[1].status)
      assert.are.equal(50, #log[1].account_ids)
      local first = {}
      for _, id in ipairs(log[1].account_ids) do first[key("guardduty", BIG_REGION, id)] = true end
      for i = 2, 4 do assert.are.equal(503, log[i].status) end
      local want, n = expected_keys({ "guardduty" }, { BIG_REGION })
      assert.are.equal(55, n)
      check_accounted(report, audit, want, n, function(_, r)
        return first[key(r.service, r.region, r.account_id)] and "declined" or "error"
      end, "second batch")
      local st = status_of(s:state())
      for k in pairs(want) do assert.are.equal(first[k] and "Resigned" or "Invited", st[k], k) end
      assert.are.equal(1, runner.exit_code(report))
    end)
  end)

  -------------------------------------------------------------------------------------------------
  describe("(2) the invite apply CLI with --audit-log", function()
    local tmp, policy_file
    setup(function()
      policy_file = os.tmpname() .. ".lua"
      local fh = assert(io.open(policy_file, "w"))
      fh:write(POLICY_SRC)
      fh:close()
    end)
    teardown(function() os.remove(policy_file) end)
    before_each(function()
      tmp = os.tmpname()
      s:set_faults("")
      s:reset()
      s:clear_requests()
    end)
    after_each(function()
      os.remove(tmp); os.remove(tmp .. ".out"); os.remove(tmp .. ".err"); os.remove(tmp .. ".audit")
    end)

    local function sh_quote(v) return "'" .. tostring(v):gsub("'", "'\\''") .. "'" end
    local function apply_cli(endpoint, extra_env)
      local cmd = "env -u LD_PRELOAD -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_CA_BUNDLE AWS_CONFIG_FILE=/dev/null "
        .. "AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=2 "
        .. "AWS_ACCESS_KEY_ID=" .. KEY.id .. " AWS_SECRET_ACCESS_KEY=" .. sh_quote(KEY.secret) .. " "
        .. (extra_env or "") .. " " .. interp.LUA .. " bin/invite apply " .. sh_quote(policy_file) .. " --json --quiet"
        .. " --services " .. table.concat(SERVICES, ",") .. " --regions " .. table.concat(REGIONS, ",")
        .. " --endpoint-url " .. endpoint .. " --audit-log " .. tmp .. ".audit"
        .. " >" .. tmp .. ".out 2>" .. tmp .. ".err"
      local code = exit_code(os.execute(cmd))
      local out = assert(io.open(tmp .. ".out")):read("*a")
      local err = assert(io.open(tmp .. ".err")):read("*a")
      return code, out, err
    end

    for _, f in ipairs(FAULTS) do
      if f.cli ~= false then
        it(("permanent %s on every DeclineInvitations: exit 1, every invitation in report and audit log")
          :format(f.name), function()
          s:set_faults(fault_spec("always", "DeclineInvitations", f.word))
          local code, out, err = apply_cli(s.endpoint)
          assert.are.equal(1, code, err)
          local report = assert(cjson.decode(out), out)
          local want, n = expected_keys(SERVICES, REGIONS)
          local recs = check_accounted(report, tmp .. ".audit", want, n, function(action)
            if action == "decline" or action == "decline_and_delete" then return "error" end
            return DONE[action]
          end, "CLI " .. f.name)
          for _, r in pairs(recs) do
            if r.outcome == "error" then assert.matches(f.code(r.service), r.detail, 1, true) end
          end
          assert.is_nil((out .. err):find(KEY.secret, 1, true))
          -- AWS_MAX_ATTEMPTS=2: two attempts per decline call (with a reset, 1 to 6 requests per
          -- attempt: libcurl's own re-sends on reused connections, see above)
          assert_decline_attempts(s, 2, f.word)
        end)
      end
    end
  end)

  -------------------------------------------------------------------------------------------------
  describe("TLS with a self-signed certificate on loopback", function()
    local cert, ts, tmp
    setup(function()
      cert = tls.self_signed()
      ts = tls.start_sim{ cert = cert, fixtures = FIXTURE }
    end)
    teardown(function()
      if ts then ts:stop() end
      tls.remove(cert)
    end)
    before_each(function()
      ts:reset()
      tmp = os.tmpname()
    end)
    after_each(function() os.remove(tmp) end)

    local function handshake_failures(log)
      local n = 0
      for _, e in ipairs(log) do if e.error == "TLS handshake failed" then n = n + 1 end end
      return n
    end

    for _, service in ipairs(SERVICES) do
      it(service .. ": refused by default (TLSError, not retried, nothing reached the service)", function()
        -- the default: no ca_bundle option, and AWS_CA_BUNDLE as the environment has it (unset, or
        -- the system store as on this project's machines); neither trusts a throwaway certificate
        local before = #ts:requests()
        local c = invite[service].client{ region = "us-east-1", endpoint = ts.endpoint, credentials = CREDS,
                                           connect_timeout_ms = fresh() }
        local res, err = c:decline_invitations{ [IDS[service]] = { inviter(2, 1) } }
        assert.is_nil(res)
        assert.are.equal("TLSError", err.code, tostring(err))
        assert.are.equal("tls", err.kind)
        assert.is_false(err.retryable)
        assert.are.equal(1, err.attempts)
        assert.matches("certificate", err.message)
        local log = ts:requests()
        local new = {}
        for i = before + 1, #log do new[#new + 1] = log[i] end
        assert.are.equal(1, #new)
        assert.are.equal(1, handshake_failures(new))
        assert.is_nil(new[1].operation)
      end)
    end

    it("accepted with the client option ca_bundle and with AWS_CA_BUNDLE (client env), over 127.0.0.1 and localhost",
      function()
        for _, how in ipairs{ { ca_bundle = cert.cert }, { env = { AWS_CA_BUNDLE = cert.cert } } } do
          for _, host in ipairs{ "127.0.0.1", "localhost" } do
            local o = { region = "us-east-1", endpoint = "https://" .. host .. ":" .. ts.port, credentials = CREDS,
                        connect_timeout_ms = fresh() }
            for k, v in pairs(how) do o[k] = v end
            local c = invite.guardduty.client(o)
            local res, err = c:list_all_invitations{}
            assert.is_nil(err, tostring(err))
            assert.are.equal(8, #res)
          end
        end
        local st = status_of(ts:state())
        local c = invite.macie2.client{ region = "eu-west-1", endpoint = ts.endpoint, credentials = CREDS,
                                        ca_bundle = cert.cert, connect_timeout_ms = fresh() }
        assert(c:decline_invitations{ accountIds = { inviter(2, 2) } })
        assert.are.equal("Invited", st[key("macie2", "eu-west-1", inviter(2, 2))])
        assert.are.equal("Resigned", status_of(ts:state())[key("macie2", "eu-west-1", inviter(2, 2))])
      end)

    for _, f in ipairs(FAULTS) do
      it(("permanent %s over TLS: the same error as over plain HTTP, after 2 attempts"):format(f.name), function()
        ts:set_faults("always guardduty:DeclineInvitations " .. f.word)
        local before = #ts:requests()
        local slept = {}
        local c = invite.guardduty.client{ region = "us-east-1", endpoint = ts.endpoint, credentials = CREDS,
          ca_bundle = cert.cert, connect_timeout_ms = fresh(), timeout_ms = f.timeout_ms, max_attempts = 2,
          sleep = function(sec) slept[#slept + 1] = sec end, random = function() return 0.25 end }
        local res, err = c:decline_invitations{ AccountIds = { inviter(2, 1) } }
        ts:set_faults("")
        assert.is_nil(res)
        assert.are.equal(f.code("guardduty"), err.code, tostring(err))
        assert.is_true(err.retryable)
        assert.are.equal(2, err.attempts)
        if f.kind then assert.are.equal(f.kind, err.kind) end
        assert.are.same({ f.delays[1] }, slept)
        local log = ts:requests()
        local new = {}
        for i = before + 1, #log do new[#new + 1] = log[i] end
        assert.are.equal(2, #requests_of(new, "DeclineInvitations"))
        assert.are.equal(0, handshake_failures(new))
      end)
    end

    it("invite sim refuses bad TLS options with exit 2, naming the problem (and serves nothing)", function()
      local other = tls.self_signed()
      local function sim_with(args)
        local out = tmp .. ".sim"
        local code = exit_code(os.execute("env -u LD_PRELOAD timeout 10 " .. interp.LUA .. " bin/invite sim --fixtures "
          .. sim.FIXTURE .. " --port 0 " .. args .. " >" .. out .. " 2>&1"))
        local text = assert(io.open(out)):read("*a")
        os.remove(out)
        return code, text
      end
      local cases = {
        { "--tls-cert " .. cert.cert, "--tls-cert and --tls-key go together" },
        { "--tls-key " .. cert.key, "--tls-cert and --tls-key go together" },
        { "--tls-cert " .. cert.dir .. "/missing.pem --tls-key " .. cert.key,
          "cannot load TLS certificate: " .. cert.dir .. "/missing.pem: No such file or directory" },
        { "--tls-cert " .. cert.cert .. " --tls-key " .. other.key, "private key does not match" },
        { "--tls-cert " .. cert.key .. " --tls-key " .. cert.key, "error loading certificate" },
      }
      for _, c in ipairs(cases) do
        local code, text = sim_with(c[1])
        assert.are.equal(2, code, c[1] .. ": " .. text)
        assert.matches(c[2], text, 1, true)
        assert.is_nil(text:find("listening", 1, true))
      end
      tls.remove(other)
    end)

    local function write_policy()
      local p = tmp .. ".lua"
      local fh = assert(io.open(p, "w"))
      fh:write(POLICY_SRC)
      fh:close()
      return p
    end

    local function cli(extra_env, audit)
      local p = write_policy()
      local cmd = "env -u LD_PRELOAD -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_CA_BUNDLE AWS_CONFIG_FILE=/dev/null "
        .. "AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true "
        .. "AWS_ACCESS_KEY_ID=" .. KEY.id .. " AWS_SECRET_ACCESS_KEY='" .. KEY.secret .. "' " .. extra_env
        .. " " .. interp.LUA .. " bin/invite apply " .. p .. " --json --quiet --services "
        .. table.concat(SERVICES, ",")
        .. " --regions " .. table.concat(REGIONS, ",") .. " --endpoint-url " .. ts.endpoint
        .. " --audit-log " .. audit .. " >" .. tmp .. ".out 2>" .. tmp .. ".err"
      local code = exit_code(os.execute(cmd))
      local out = assert(io.open(tmp .. ".out")):read("*a")
      local err = assert(io.open(tmp .. ".err")):read("*a")
      os.remove(p); os.remove(tmp .. ".out"); os.remove(tmp .. ".err")
      return code, out, err
    end

    it("invite apply refuses it by default: exit 1, every scope reported in the report and the audit log", function()
      local audit = tmp .. ".audit"
      local before = #ts:requests()
      local code, out, err = cli("", audit)
      assert.are.equal(1, code, err)
      local report = assert(cjson.decode(out), out)
      assert.are.equal(0, report.totals.invitations)
      assert.are.equal(#SERVICES * #REGIONS, #report.errors)
      for _, e in ipairs(report.errors) do assert.matches("TLSError", e, 1, true) end
      local scope_errors = 0
      for _, e in ipairs((read_audit(audit))) do
        if e.event == "scope_error" then
          scope_errors = scope_errors + 1
          assert.matches("TLSError", e.error, 1, true)
        end
      end
      os.remove(audit)
      assert.are.equal(#SERVICES * #REGIONS, scope_errors)
      local log = ts:requests()
      local new = {}
      for i = before + 1, #log do new[#new + 1] = log[i] end
      -- one handshake for who am I (STS GetCallerIdentity, a warning) and one per scope, nothing else
      assert.are.equal(#SERVICES * #REGIONS + 1, #new)
      assert.are.equal(#new, handshake_failures(new))
    end)

    it("invite apply accepts it with AWS_CA_BUNDLE: exit 0, every invitation done in report and audit log", function()
      local audit = tmp .. ".audit"
      local code, out, err = cli("AWS_CA_BUNDLE=" .. cert.cert, audit)
      assert.are.equal(0, code, err)
      local report = assert(cjson.decode(out), out)
      local want, n = expected_keys(SERVICES, REGIONS)
      check_accounted(report, audit, want, n, function(action) return DONE[action] end, "TLS CLI")
      os.remove(audit)
      local st = status_of(ts:state())
      for k, action in pairs(want) do
        if action == "decline" then assert.are.equal("Resigned", st[k], k) end
        if action == "delete" or action == "decline_and_delete" then assert.is_nil(st[k], k) end
      end
    end)
  end)
  -------------------------------------------------------------------------------------------------
  -- (3) hostile and broken servers, and an audit log that cannot record (issue 14): every
  -- invitation still ends in exactly one outcome in the report and the audit log, every failure
  -- is bounded and named, and no mutating call is made that the audit log has not recorded.
  describe("(3) hostile servers and a failing audit log", function()
    local h, audit
    local H = { id = "ASIAHOSTILESPEC00001", secret = "hostile/spec/session/secret/0123456789ab",
                token = "hostile-spec-session-token-FwoGZXIvYXdzEXAMPLE0123456789" }
    local HCREDS = { access_key_id = H.id, secret_access_key = H.secret, session_token = H.token }
    setup(function()
      local fx = fixture()
      fx.accounts[1].roles = { { name = "Auditor", trusted_accounts = { ME } } }
      fx.sessions = { { access_key_id = H.id, secret = H.secret, session_token = H.token, account = ME,
                        role = "Auditor", session_name = "hostile", expiration = "2999-01-01T00:00:00Z" } }
      h = sim.start{ fixtures = fx, seed = 3 }
    end)
    teardown(function() h:stop() end)
    before_each(function()
      audit = os.tmpname()
      h:set_faults("")
      h:reset()
      h:clear_requests()
    end)
    after_each(function() os.remove(audit) end)

    local function run(extra)
      local o = {
        policy = policy, apply = true, services = SERVICES, regions = REGIONS, audit_log = audit, concurrency = 4,
        client = function(scope)
          return invite[scope.service].client{ region = scope.region, endpoint = h.endpoint, credentials = HCREDS,
            sleep = function() end, random = function() return 0.25 end, connect_timeout_ms = fresh(),
            max_attempts = 3, max_pages = extra and extra.max_pages }
        end,
      }
      for k, v in pairs(extra or {}) do if k ~= "max_pages" then o[k] = v end end
      return runner.run(o)
    end

    -- `word` on every DeclineInvitations of `svc`: that service's declines end as errors, every
    -- other invitation is done, in the report and the audit log. Returns the records by key.
    local function declines_fail(svc, word, label)
      h:set_faults("always " .. svc .. ":DeclineInvitations " .. word)
      local report = run()
      local want, n = expected_keys(SERVICES, REGIONS)
      return check_accounted(report, audit, want, n, function(action, r)
        if r.service == svc and (action == "decline" or action == "decline_and_delete") then return "error" end
        return DONE[action]
      end, label), report
    end

    local function per_service(head, op, word)
      local rules = {}
      for _, svc in ipairs(SERVICES) do rules[#rules + 1] = head .. " " .. svc .. ":" .. op .. " " .. word end
      return table.concat(rules, "; ")
    end

    for _, variant in ipairs{ "malformed-unprocessed", "malformed-unprocessed=garbage" } do
      for _, svc in ipairs(SERVICES) do
        hostile_case()
        it(("%s: %s on DeclineInvitations: the scope's declines end as errors naming it, no crash")
          :format(svc, variant), function()
          local recs, report = declines_fail(svc, variant, variant)
          for _, r in pairs(recs) do
            if r.outcome == "error" then
              assert.matches("without a valid account ID; whether this invitation was processed is unknown",
                r.detail, 1, true)
            end
          end
          for _, e in ipairs(report.errors) do assert.is_nil(e:find("internal error", 1, true), e) end
          assert.are.equal(1, runner.exit_code(report))
        end)
      end
    end

    for _, svc in ipairs(SERVICES) do
      hostile_case()
      it(svc .. ": an invitation without an account ID is reported as malformed; its siblings are acted on",
        function()
        h:set_faults("always " .. svc .. ":ListInvitations malformed-invitation")
        local report = run()
        local want, n = expected_keys(SERVICES, REGIONS)
        local malformed, rest = {}, { invitations = {}, totals = {} }
        for _, r in ipairs(report.invitations) do
          if r.account_id == nil then malformed[#malformed + 1] = r else rest.invitations[#rest.invitations + 1] = r end
        end
        assert.are.equal(#REGIONS, #malformed) -- one per scope of that service
        for _, r in ipairs(malformed) do
          assert.are.equal(svc, r.service)
          assert.are.equal("error", r.outcome)
          assert.are.equal("malformed invitation from the service: it has no account ID; not acted on", r.detail)
          assert.is_nil(r.action)
        end
        assert.are.equal(n + #REGIONS, report.totals.invitations)
        -- every valid sibling is done as the policy said, in the report and in the simulator
        local seen = {}
        for _, r in ipairs(rest.invitations) do
          local k = key(r.service, r.region, r.account_id)
          seen[k] = true
          assert.are.equal(DONE[want[k]], r.outcome, k .. " " .. tostring(r.detail))
        end
        for k in pairs(want) do assert.is_true(seen[k], k) end
        local st = status_of(h:state())
        for k, action in pairs(want) do
          if action == "decline" then assert.are.equal("Resigned", st[k], k) end
          if action == "delete" or action == "decline_and_delete" then assert.is_nil(st[k], k) end
        end
        -- and the audit log has one outcome line per invitation, the malformed ones included
        local outcomes = 0
        for _, e in ipairs((read_audit(audit))) do if e.event == "outcome" then outcomes = outcomes + 1 end end
        assert.are.equal(n + #REGIONS, outcomes)
        assert.are.equal(1, runner.exit_code(report))
      end)
    end

    hostile_case()
    it("a delete whose answer was lost and which is retried is recognised as done, not 'no invitation'", function()
      h:set_faults(per_service("first 1", "DeleteInvitations", "lost"))
      local report = run()
      local want, n = expected_keys(SERVICES, REGIONS)
      local recs = check_accounted(report, audit, want, n, function(action) return DONE[action] end, "lost")
      assert.are.equal(0, runner.exit_code(report), table.concat(report.errors, "\n"))
      local recognised = 0
      for _, r in pairs(recs) do
        if r.detail and r.detail:find("already gone when the call arrived", 1, true) then
          recognised = recognised + 1
        end
      end
      assert.is_true(recognised >= #SERVICES, "recognised " .. recognised)
      local lost = 0
      for _, e in ipairs(requests_of(h:requests(), "DeleteInvitations")) do
        if e.fault == "lost" then lost = lost + 1 end
      end
      assert.are.equal(#SERVICES, lost)
      local st = status_of(h:state())
      for k, action in pairs(want) do
        if action == "delete" or action == "decline_and_delete" then assert.is_nil(st[k], k) end
      end
    end)

    hostile_case()
    it("endless pagination stops at max_pages with a PaginationError for that scope; the others go on", function()
      h:set_faults("always guardduty:ListInvitations endless-pages")
      local report = run{ max_pages = 25 }
      local want, n = expected_keys({ "macie2", "securityhub" }, REGIONS)
      check_accounted(report, audit, want, n, function(action) return DONE[action] end, "endless")
      assert.are.equal(#REGIONS, #report.errors)
      for _, e in ipairs(report.errors) do
        assert.matches("PaginationError", e, 1, true)
        assert.matches("more than 25 pages (max_pages)", e, 1, true)
      end
      assert.are.equal(25 * #REGIONS, #requests_of(h:requests(), "ListInvitations") - 2 * #REGIONS)
    end)

    hostile_case()
    it("a page larger than the model's maximum is refused with a PaginationError", function()
      -- the bound is the result list's own (guardduty: 50) or else the page size's maximum
      -- (securityhub MaxResults: 50, macie2 maxResults: 25)
      h:set_faults("always guardduty:ListInvitations bigpage=51; always securityhub:ListInvitations bigpage=51;"
        .. " always macie2:ListInvitations bigpage=26")
      local report = run()
      assert.are.equal(#SERVICES * #REGIONS, #report.errors)
      for _, e in ipairs(report.errors) do
        local svc = e:match("^(%w+) ")
        local bound = svc == "macie2" and "page 1 has 26 invitations; the model allows at most 25 per page"
          or ("page 1 has 51 Invitations; the model allows at most 50 per page")
        assert.matches(bound, e, 1, true)
      end
    end)

    hostile_case()
    it("an oversized answer is refused at max_body_bytes (1 MiB) once, not retried, and named", function()
      local recs = declines_fail("guardduty", "bigbody=2M", "bigbody")
      for _, r in pairs(recs) do
        if r.outcome == "error" then assert.matches("max_body_bytes", r.detail, 1, true) end
      end
      local gd = 0
      for _, e in ipairs(requests_of(h:requests(), "DeclineInvitations")) do
        if e.service == "guardduty" then gd = gd + 1 end
      end
      assert.are.equal(#REGIONS, gd) -- one request per scope: a body over the cap is not retried
    end)

    hostile_case()
    it("a 900 KB error message is cut in the report and the audit log", function()
      local recs = declines_fail("macie2", "bigmessage=900K", "bigmessage")
      for _, r in pairs(recs) do
        if r.outcome == "error" then
          assert.is_true(#r.detail < 1400, #r.detail)
          assert.matches("bytes, cut to 1024)", r.detail, 1, true)
        end
      end
      local _, text = read_audit(audit)
      assert.is_true(#text < 200 * 1024, "audit log " .. #text .. " bytes")
    end)

    -- An audit log that stops recording after `ok_writes` lines: the run stops making calls there.
    for _, ok_writes in ipairs{ 0, 1, 5, 12, 25, 40, 60 } do
      hostile_case()
      it(("an audit log that fails after %d lines: no mutating call it has not recorded, the run stops, "
        .. "reports what was and was not done"):format(ok_writes), function()
        local recorded, writes = {}, 0
        local failing = { write = function(_, ev)
          writes = writes + 1
          if writes > ok_writes then return nil, "audit: write failed: No space left on device" end
          recorded[#recorded + 1] = cjson.decode(cjson.encode(ev))
          return true
        end }
        local report = run{ audit_log = false, audit = failing }
        -- every mutating request the simulator saw was recorded, with its IDs, before it was made
        local OP = { DeclineInvitations = "decline_invitations", DeleteInvitations = "delete_invitations" }
        local mutating = 0
        for _, e in ipairs(h:requests()) do
          if OP[e.operation] then
            mutating = mutating + 1
            local covered = false
            for _, ev in ipairs(recorded) do
              if ev.event == "call" and ev.operation == OP[e.operation] and ev.service == e.service
                  and ev.region == e.region then
                local ids = {}
                for _, id in ipairs(ev.account_ids) do ids[id] = true end
                local all = true
                for _, id in ipairs(e.account_ids or {}) do all = all and ids[id] == true end
                covered = covered or all
              end
            end
            assert.is_true(covered, e.operation .. " " .. e.service .. " " .. e.region .. " was not in the audit log")
          end
        end
        assert.is_true(writes > ok_writes, "the log failed at least once")
        assert.are.equal(1, runner.exit_code(report))
        assert.matches("^audit log: audit: write failed: No space left on device; the run stopped: %d+ invitations"
          .. " acted on before, %d+ not acted on$", report.errors[1])
        assert.is_string(report.audit_error)
        -- every invitation has exactly one outcome; those not acted on say so
        for _, r in ipairs(report.invitations) do
          assert.is_string(r.outcome)
          if r.outcome == "error" and r.detail:find(" not sent: ", 1, true) then
            assert.matches("not sent: the audit log could not record", r.detail, 1, true)
          end
        end
        if ok_writes == 0 then assert.are.equal(0, mutating) end
      end)
    end

    local function sh_quote(v) return "'" .. tostring(v):gsub("'", "'\\''") .. "'" end
    local policy_file
    local function cli(args, prefix)
      if not policy_file then
        policy_file = os.tmpname() .. ".lua"
        local fh = assert(io.open(policy_file, "w"))
        fh:write(POLICY_SRC)
        fh:close()
      end
      local out, err = audit .. ".out", audit .. ".err"
      local cmd = (prefix or "") .. "env -u LD_PRELOAD -u AWS_PROFILE -u AWS_CA_BUNDLE AWS_CONFIG_FILE=/dev/null "
        .. "AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=2 "
        .. "AWS_ACCESS_KEY_ID=" .. H.id .. " AWS_SECRET_ACCESS_KEY=" .. sh_quote(H.secret)
        .. " AWS_SESSION_TOKEN=" .. sh_quote(H.token) .. " " .. interp.LUA .. " bin/invite "
        .. args:gsub("POLICY", sh_quote(policy_file)) .. " --services " .. table.concat(SERVICES, ",")
        .. " --regions " .. table.concat(REGIONS, ",") .. " --endpoint-url " .. h.endpoint
        .. " >" .. out .. " 2>" .. err
      local code = exit_code(os.execute(cmd))
      local o, e = sim.read_file(out), sim.read_file(err)
      os.remove(out); os.remove(err)
      return code, o, e
    end
    local function mutating_requests()
      local n = 0
      for _, e in ipairs(h:requests()) do
        if e.operation == "DeclineInvitations" or e.operation == "DeleteInvitations" then n = n + 1 end
      end
      return n
    end

    hostile_case()
    it("invite apply --audit-log /dev/full: nothing is sent, exit 1, stderr names the audit log", function()
      local code, out, err = cli("apply POLICY --quiet --audit-log /dev/full")
      assert.are.equal(1, code, out .. err)
      assert.matches("audit log: audit: %a+ failed: No space left on device; the run stopped", err)
      assert.are.equal(0, mutating_requests())
    end)

    hostile_case()
    it("invite apply under a file size limit: the log stops, so do the calls; every call made is in the log",
      function()
      local code, _, err = cli("apply POLICY --quiet --audit-log " .. audit,
        "trap '' XFSZ; ulimit -f 12; ")
      assert.are.equal(1, code, err)
      -- the limit strikes part-way: some calls were made before it, some never
      local made, not_made = err:match("audit log: audit: %a+ failed: File too large; the run stopped: (%d+) "
        .. "invitations acted on before, (%d+) not acted on")
      assert.is_true(tonumber(made) > 0 and tonumber(not_made) > 0, err)
      local text = sim.read_file(audit)
      assert.is_true(#text <= 12 * 1024, #text)
      local logged = {}
      for line in text:gmatch("[^\n]+") do
        local ok, ev = pcall(cjson.decode, line)
        if ok and ev.event == "call" then
          for _, id in ipairs(ev.account_ids) do logged[ev.service .. " " .. ev.region .. " " .. ev.operation
            .. " " .. id] = true end
        end
      end
      local OP = { DeclineInvitations = "decline_invitations", DeleteInvitations = "delete_invitations" }
      for _, e in ipairs(h:requests()) do
        if OP[e.operation] then
          for _, id in ipairs(e.account_ids or {}) do
            assert.is_true(logged[e.service .. " " .. e.region .. " " .. OP[e.operation] .. " " .. id] == true,
              e.operation .. " " .. id .. " sent but not in the audit log")
          end
        end
      end
    end)

    for _, json in ipairs{ true, false } do
      hostile_case()
      it(("a server that echoes the caller's session token and signature: redacted from stderr, %s and the "
        .. "audit log"):format(json and "--json" or "the table"), function()
        h:set_faults(per_service("always", "DeclineInvitations", "echo-secrets"))
        local code, out, err = cli("apply POLICY --quiet --audit-log " .. audit .. (json and " --json" or ""))
        assert.are.equal(1, code, err)
        local text = out .. err .. sim.read_file(audit)
        assert.matches("[redacted]", text, 1, true)
        assert.is_nil(text:find(H.token, 1, true), "token in the output")
        assert.is_nil(text:find(H.secret, 1, true), "secret in the output")
        assert.is_nil(text:find((H.secret:gsub("/", "\\/")), 1, true), "escaped secret in the output")
        -- the server really did echo it (the simulator's answer carried the token)
        assert.is_true(#requests_of(h:requests(), "DeclineInvitations") > 0)
      end)
    end

    hostile_case()
    it("invite list against a server that puts terminal escapes in invitedAt: the table shows them escaped",
      function()
      h:set_faults(per_service("always", "ListInvitations", "escape"))
      local code, out, err = cli("list")
      assert.are.equal(0, code, err)
      for line in out:gmatch("[^\n]+") do assert.is_nil(line:find("%c"), "a raw control character: " .. line) end
      assert.matches("\\x1b]0;pwned\\x07\\x1b[2J", out, 1, true)
      -- every invitation is still listed
      local _, n = expected_keys(SERVICES, REGIONS)
      local rows = 0
      for line in out:gmatch("[^\n]+") do if line:find("pwned", 1, true) then rows = rows + 1 end end
      assert.are.equal(n, rows)
    end)

    hostile_case()
    it("invite plan against endless pagination ends with a PaginationError at the default 1000 pages", function()
      h:set_faults("always guardduty:ListInvitations region=us-east-1 endless-pages")
      local code, out, err = cli("plan POLICY --quiet --json")
      assert.are.equal(1, code, err)
      local report = assert(cjson.decode(out))
      local found
      for _, e in ipairs(report.errors) do
        if e:find("guardduty us-east-1", 1, true) and e:find("more than 1000 pages (max_pages)", 1, true) then
          found = true
        end
      end
      assert.is_true(found, out)
      local pages = 0
      for _, e in ipairs(h:requests()) do
        if e.operation == "ListInvitations" and e.service == "guardduty" and e.region == "us-east-1" then
          pages = pages + 1
        end
      end
      assert.are.equal(1000, pages)
      if policy_file then os.remove(policy_file) end
      policy_file = nil
    end)
  end)
end)
