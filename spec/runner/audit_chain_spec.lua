-- The audit log as a trail that stands alone (issue 19, item 4): every line chains to the one
-- before it by SHA-256, the start line names the tool, the caller, the policy (by its bytes), the
-- host and the command line (redacted), the end line the totals; invite.audit.verify and
-- `invite audit verify` tell a complete log from a truncated, reordered, edited or shortened one,
-- each with its own message and exit code, and check a log cut short by a crash as far as it goes.
local cjson = require "cjson"
local sim = require "support.sim"
local interp = require "support.interp"
local audit = require "invite.audit"
local runner = require "invite.runner"
local sha256 = require("invite.sigv4").sha256_hex

local prod = sim.keys.prod
local CREDS = { access_key_id = prod.access_key_id, secret_access_key = prod.secret_access_key }
local MUTATING = { DeclineInvitations = true, DeleteInvitations = true, AcceptInvitation = true,
                   AcceptAdministratorInvitation = true, RejectInvitation = true, DeclineHandshake = true,
                   AcceptHandshake = true, RejectResourceShareInvitation = true,
                   AcceptResourceShareInvitation = true }

local unpack = table.unpack or unpack -- luacheck: ignore 143

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function lines_of(path)
  local out = {}
  for line in (sim.read_file(path) or ""):gmatch("([^\n]*)\n") do out[#out + 1] = line end
  return out
end
local function write_lines(path, lines, tail)
  sim.write_file(path, (#lines > 0 and (table.concat(lines, "\n") .. "\n") or "") .. (tail or ""))
end
local function events_of(path)
  local out = {}
  for i, line in ipairs(lines_of(path)) do out[i] = cjson.decode(line) end
  return out
end
local function messages(res)
  local out = {}
  for _, p in ipairs(res.problems) do out[#out + 1] = p.message end
  return table.concat(out, "\n")
end

describe("audit log chain", function()
  local s, tmp, policy_file

  -- the CLI under this spec's interpreter, with prod's keys
  local function invite(args)
    local cmd = "env -u LD_PRELOAD -u AWS_PROFILE -u AWS_SESSION_TOKEN AWS_CONFIG_FILE=/dev/null "
      .. "AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true "
      .. "AWS_ACCESS_KEY_ID=" .. prod.access_key_id .. " AWS_SECRET_ACCESS_KEY=" .. sh_quote(prod.secret_access_key)
      .. " " .. interp.LUA .. " bin/invite " .. args .. " >" .. tmp .. ".out 2>" .. tmp .. ".err"
    local code = interp.execute(cmd)
    return code, sim.read_file(tmp .. ".out") or "", sim.read_file(tmp .. ".err") or ""
  end

  -- one apply of a decline-everything policy over GuardDuty and Macie in us-east-1, in this process
  local function apply(path, extra)
    local opts = { services = { "guardduty", "macie2" }, regions = { "us-east-1" }, endpoint = s.endpoint,
                   credentials = CREDS, apply = true, audit_log = path,
                   policy = function() return "decline", "audit chain spec" end }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return runner.run(opts)
  end

  setup(function()
    s = sim.start{ fixtures = "examples/fixtures/org.json" }
    policy_file = os.tmpname() .. ".lua"
    sim.write_file(policy_file, 'return function() return "decline", "audit chain spec" end\n')
  end)
  teardown(function()
    s:stop()
    os.remove(policy_file)
  end)
  before_each(function()
    s:reset()
    tmp = os.tmpname()
  end)
  after_each(function()
    for _, x in ipairs{ "", ".out", ".err", ".log" } do os.remove(tmp .. x) end
  end)

  describe("the writer", function()
    it("chains every line to the one before by the SHA-256 of its bytes; the first to \"\"", function()
      local path = tmp .. ".log"
      local report = apply(path)
      assert.is_true(report.totals.invitations > 0)
      local lines = lines_of(path)
      assert.is_true(#lines > 4, #lines)
      for i, line in ipairs(lines) do
        -- prev and seq lead every line, so a reader sees the chain first
        local prev, seq = line:match('^{"prev":"(%x*)","seq":(%d+),')
        assert.is_not_nil(prev, line)
        assert.are.equal(i == 1 and "" or sha256(lines[i - 1]), prev, "line " .. i)
        assert.are.equal(i, tonumber(seq))
      end
      local ok = audit.verify(path)
      assert.is_true(ok.ok, messages(ok))
    end)

    it("start names version, caller, host and the audit_meta fields; end the totals", function()
      local path = tmp .. ".log"
      local report = apply(path, { audit_meta = { policy = audit.file_digest(policy_file),
                                                  argv = audit.command_line{ "apply", policy_file } } })
      local ev = events_of(path)
      local start, last = ev[1], ev[#ev]
      assert.are.equal("start", start.event)
      assert.are.equal(require("invite.version"), start.version)
      assert.are.equal(prod.account, start.caller_account)
      assert.matches("^arn:aws:", start.caller_arn)
      assert.are.equal(audit.hostname(), start.host)
      assert.is_string(start.host)
      assert.are.equal(policy_file, start.policy.path)
      assert.are.equal(sha256(sim.read_file(policy_file)), start.policy.sha256)
      assert.are.same({ "invite", "apply", policy_file }, start.argv)
      assert.are.equal("end", last.event)
      assert.are.equal(report.totals.invitations, last.invitations)
      assert.are.same(report.totals.actions, last.actions)
      assert.are.same(report.totals.outcomes, last.outcomes)
      assert.are.equal(#report.errors, last.errors)
      assert.are.equal(0, last.warnings)
    end)

    it("a second run appended chains to the first one's last line; verify reports both", function()
      local path = tmp .. ".log"
      apply(path)
      local first = lines_of(path)
      s:reset()
      apply(path)
      local lines = lines_of(path)
      local second = cjson.decode(lines[#first + 1])
      assert.are.equal("start", second.event)
      assert.are.equal(sha256(first[#first]), second.prev)
      assert.are.equal(1, second.seq)
      local res = audit.verify(path)
      assert.is_true(res.ok, messages(res))
      assert.are.equal(2, #res.runs)
      assert.are_not.equal(res.runs[1].run_id, res.runs[2].run_id)
      for _, run in ipairs(res.runs) do
        assert.are.equal("complete", run.status)
        assert.are.equal(run.decisions, run.outcomes)
      end
    end)

    it("after a crash mid-line: the torn line gets its newline, the next start names it and chains round it",
      function()
      local path = tmp .. ".log"
      apply(path)
      -- the run crashed part-way through writing a line: no end, a line without its newline
      local before = lines_of(path)
      local first_run = before[1]
      before[#before] = nil
      local torn = '{"prev":"' .. sha256(before[#before]) .. '","seq":' .. (#before + 1) .. ',"event":"outc'
      write_lines(path, before, torn)
      s:reset()
      apply(path)
      local lines = lines_of(path)
      assert.are.equal(torn, lines[#before + 1])
      local start = cjson.decode(lines[#before + 2])
      assert.is_true(start.torn_tail)
      assert.are.equal(#torn, start.torn_bytes)
      assert.are.equal(sha256(torn), start.torn_sha256)
      assert.are.equal(sha256(before[#before]), start.prev)
      local res = audit.verify(path)
      assert.is_true(res.unbroken, messages(res))
      assert.matches("line " .. (#before + 1) .. ": the last line of a run cut short by a crash", res.notes[1], 1, true)
      -- the crashed run stays incomplete (its end is missing for good); the new run is complete
      assert.is_false(res.complete)
      assert.are.equal(1, #res.problems, messages(res))
      assert.matches("incomplete: run " .. cjson.decode(first_run).run_id .. " has no end", messages(res), 1, true)
      assert.are.same({ "incomplete", "complete" }, { res.runs[1].status, res.runs[2].status })
    end)

    it("a log opened without a run id and given to invite.run as `audit` verifies as one run", function()
      local path = tmp .. ".log"
      local log = assert(audit.open(path, { sync = false }))
      apply(path, { audit_log = false, audit = log })
      assert(log:close())
      local res = audit.verify(path)
      assert.is_true(res.ok, messages(res))
      assert.are.equal("(no run_id)", res.runs[1].run_id)
      assert.matches("name no run_id", res.notes[1], 1, true)
    end)

    it("a named pipe as the log: it is written, nothing waits to read it back", function()
      if not interp.have("mkfifo") or not interp.have("timeout") then return pending("no mkfifo/timeout") end
      local fifo, out = tmp .. ".log", tmp .. ".out"
      os.remove(fifo)
      assert.are.equal(0, interp.execute("mkfifo " .. fifo))
      assert.are.equal(0, interp.execute("(timeout 20 cat " .. fifo .. " > " .. out .. ") >/dev/null 2>&1 &"))
      local code = interp.execute("timeout 20 env -u LD_PRELOAD " .. interp.LUA .. " -e '"
        .. "package.path = \"lua/?.lua;lua/?/init.lua;\" .. package.path; package.cpath = \"" .. interp.CPATH
        .. ";\" .. package.cpath; local a = assert(require(\"invite.audit\").open(\"" .. fifo .. "\", "
        .. "{ run_id = \"p\", sync = false })); assert(a:write{ event = \"start\" }); assert(a:close())'")
      assert.are.equal(0, code)
      os.execute("sleep 0.2")
      assert.matches('^{"prev":"","seq":1,', sim.read_file(out) or "")
    end)

    it("refuses bad audit_meta naming the field, before anything is sent", function()
      local n = #s:requests()
      local ok, err = pcall(apply, tmp .. ".log", { audit_meta = { version = "9" } })
      assert.is_false(ok)
      assert.matches("invite.run: audit_meta.version: the start line writes version itself", err, 1, true)
      ok, err = pcall(apply, tmp .. ".log", { audit_meta = "policy.lua" })
      assert.is_false(ok)
      assert.matches("audit_meta must be a table", err, 1, true)
      ok, err = pcall(apply, tmp .. ".log", { audit_meta = { f = function() end } })
      assert.is_false(ok)
      assert.matches("audit_meta.f: not JSON-encodable", err, 1, true)
      assert.are.equal(n, #s:requests())
    end)

    it("records a command line without the ExternalId, a URL's password or a registered secret", function()
      local redact = require "invite.redact"
      redact.register("argv-spec-secret-value-0123")
      finally(function() redact.clear() end)
      assert.are.same({ "invite", "apply", "p.lua", "--external-id", "[redacted]", "--external-id=[redacted]",
                        "--endpoint-url", "http://[redacted]@127.0.0.1:1/", "--role=[redacted]" },
        audit.command_line{ "apply", "p.lua", "--external-id", "audit-7c1e4b", "--external-id=x",
                            "--endpoint-url", "http://user:pw@127.0.0.1:1/", "--role=argv-spec-secret-value-0123" })
    end)
  end)

  describe("verify", function()
    local path, lines, ev
    before_each(function()
      path = tmp .. ".log"
      apply(path)
      lines, ev = lines_of(path), events_of(path)
    end)
    local function index_of(event, from)
      for i = from or 1, #ev do if ev[i].event == event then return i end end
    end

    it("passes a complete log: one run, complete and unbroken, its head the last line's hash", function()
      local res = audit.verify(path)
      assert.is_true(res.ok, messages(res))
      assert.is_true(res.unbroken and res.complete)
      assert.are.equal(#lines, res.lines)
      assert.are.equal(sha256(lines[#lines]), res.head)
      assert.are.equal(1, #res.runs)
      local run = res.runs[1]
      assert.are.equal(ev[1].run_id, run.run_id)
      assert.are.equal(1, run.start_line)
      assert.are.equal(#lines, run.end_line)
      assert.is_true(run.apply)
      assert.is_true(run.decisions > 0)
      assert.are.equal(run.decisions, run.outcomes)
      assert.are.equal("complete", run.status)
      assert.matches("ok: the log is complete and unbroken", audit.verify_text(res), 1, true)
    end)

    it("a log truncated at a line boundary: incomplete, the run has no end, decisions without an outcome",
      function()
      -- cut right after the first call: its decisions have no outcome, and the call was sent
      local cut = index_of("call")
      local pending = 0
      for i = 1, cut do if ev[i].event == "decision" then pending = pending + 1 end end
      for i = 1, cut do if ev[i].event == "outcome" then pending = pending - 1 end end
      assert.is_true(pending > 0)
      write_lines(path, { unpack(lines, 1, cut) })
      local res = audit.verify(path)
      assert.is_false(res.ok)
      assert.is_true(res.unbroken)
      assert.is_false(res.complete)
      assert.are.equal(1, #res.problems)
      assert.are.equal("end", res.problems[1].rule)
      assert.are.equal(cut, res.problems[1].line)
      assert.matches("incomplete: run " .. ev[1].run_id .. " has no end; " .. pending .. " decision", messages(res),
        1, true)
      assert.matches("without an outcome", messages(res), 1, true)
      assert.matches("sent, the answer unknown", messages(res), 1, true)
      assert.are.equal("incomplete", res.runs[1].status)
    end)

    it("a log cut mid-line: that line is named as cut short, and the run as incomplete", function()
      local keep = {}
      for i = 1, #lines - 1 do keep[i] = lines[i] end
      write_lines(path, keep, lines[#lines]:sub(1, 30))
      local res = audit.verify(path)
      assert.is_false(res.ok)
      assert.are.equal(2, #res.problems, messages(res))
      assert.matches("line " .. #lines .. " is cut short: the file ends inside it (30 bytes, no newline)",
        messages(res), 1, true)
      assert.matches("incomplete: run " .. ev[1].run_id .. " has no end", messages(res), 1, true)
      assert.are.same({ "end", "truncated" }, { res.problems[1].rule, res.problems[2].rule })
    end)

    it("a reordered log: the chain breaks at the first moved line, which names where it belongs", function()
      local a = index_of("decision")
      lines[a], lines[a + 1] = lines[a + 1], lines[a]
      write_lines(path, lines)
      local res = audit.verify(path)
      assert.is_false(res.ok)
      assert.is_false(res.unbroken)
      assert.are.equal("chain", res.problems[1].rule)
      assert.are.equal(a, res.problems[1].line)
      assert.matches("line " .. a .. ": its prev hash does not match line " .. (a - 1) .. "; it is the hash of line "
        .. (a + 1) .. " (chain): the lines were reordered", res.problems[1].message, 1, true)
    end)

    it("an edited line: the next line's prev no longer matches it", function()
      local d = index_of("decision")
      local edited = lines[d]:gsub('"action":"decline"', '"action":"keep"')
      assert.are_not.equal(lines[d], edited)
      lines[d] = edited
      write_lines(path, lines)
      local res = audit.verify(path)
      assert.is_false(res.ok)
      assert.are.equal(1, #res.problems, messages(res))
      assert.are.equal(d + 1, res.problems[1].line)
      assert.matches("line " .. (d + 1) .. ": its prev hash does not match line " .. d .. " (chain): line " .. d
        .. " was edited after it was written", res.problems[1].message, 1, true)
    end)

    it("a line deleted: the chain breaks there and the seq says how many lines are missing", function()
      local o = index_of("outcome")
      table.remove(lines, o)
      write_lines(path, lines)
      local res = audit.verify(path)
      assert.is_false(res.ok)
      assert.matches("line " .. o .. ": its prev hash does not match line " .. (o - 1) .. " and its seq jumps from "
        .. (o - 1) .. " to " .. (o + 1) .. " (chain): 1 line was removed before line " .. o, messages(res), 1, true)
      -- and the outcome it held is missing
      assert.matches("1 decision without an outcome", messages(res), 1, true)
    end)

    it("lines removed from the front: line 1 chains to a line that is not there", function()
      table.remove(lines, 1)
      write_lines(path, lines)
      local res = audit.verify(path)
      assert.matches("line 1: its prev hash names a line that is not in the file", messages(res), 1, true)
      assert.matches("has no start line before it", messages(res), 1, true)
    end)

    it("a call after the run's end, an outcome without its decision and a second outcome are named", function()
      local function forge(t)
        t.run_id, t.prev, t.seq = ev[1].run_id, sha256(lines[#lines]), #lines + 1
        lines[#lines + 1] = cjson.encode(t)
      end
      local o = ev[index_of("outcome")]
      forge{ event = "outcome", service = o.service, region = o.region, account = o.account,
             account_id = o.account_id, invitation_id = o.invitation_id, outcome = "declined" }
      forge{ event = "outcome", service = "guardduty", region = "us-east-1", account = o.account,
             account_id = "444444444444", invitation_id = "nowhere", outcome = "declined" }
      forge{ event = "call", service = "guardduty", region = "us-east-1", operation = "decline_invitations" }
      write_lines(path, lines)
      local res = audit.verify(path)
      assert.is_true(res.unbroken, messages(res))
      assert.is_false(res.complete)
      local m = messages(res)
      assert.matches("a second outcome for", m, 1, true)
      assert.matches("with no decision before it (outcome: no outcome without its decision)", m, 1, true)
      assert.matches("line " .. #lines .. ": a call after run " .. ev[1].run_id .. "'s end", m, 1, true)
    end)

    it("a plan's decisions need no outcome; a plan's call is named", function()
      local plan_log = tmp .. ".plan"
      finally(function() os.remove(plan_log) end)
      apply(plan_log, { apply = false })
      local res = audit.verify(plan_log)
      assert.is_true(res.ok, messages(res))
      assert.is_false(res.runs[1].apply)
      assert.is_true(res.runs[1].decisions > 0)
    end)

    it("refuses a line over 1 MiB naming its number; an empty log fails; no such file is an error", function()
      write_lines(path, { lines[1], ("x"):rep(audit.MAX_LINE + 10) })
      local res = audit.verify(path)
      assert.matches("line 2 is longer than 1 MiB", messages(res), 1, true)
      write_lines(path, {})
      res = audit.verify(path)
      assert.is_false(res.ok)
      assert.matches("the log is empty", messages(res), 1, true)
      local none, err = audit.verify(tmp .. ".nowhere")
      assert.is_nil(none)
      assert.matches("cannot open", err, 1, true)
    end)

    it("--head: the log must still hold a line hash recorded earlier, which a rewritten tail does not", function()
      local head = audit.verify(path).head
      s:reset()
      apply(path)
      assert.is_true(audit.verify(path, { head = head }).ok)
      -- the head line edited and every line after it re-chained: the chain alone cannot tell
      local now = lines_of(path)
      now[#lines] = now[#lines]:gsub('"event":"end"', '"event":"end","forged":true')
      for i = #lines + 1, #now do
        now[i] = now[i]:gsub('^{"prev":"%x*"', '{"prev":"' .. sha256(now[i - 1]) .. '"')
      end
      write_lines(path, now)
      assert.is_true(audit.verify(path).ok)
      local res = audit.verify(path, { head = head })
      assert.is_false(res.ok)
      assert.are.equal("head", res.problems[1].rule)
      assert.matches("the line recorded as head (" .. head .. ") is not in the log", messages(res), 1, true)
    end)
  end)

  describe("the CLI", function()
    it("invite apply --audit-log against the simulator, then invite audit verify: exit 0", function()
      local log = tmp .. ".log"
      local code, _, err = invite("apply " .. policy_file .. " --services guardduty,macie2 --regions us-east-1 "
        .. "--endpoint-url " .. s.endpoint .. " --external-id audit-7c1e4b --audit-log " .. log)
      assert.is_true(code == 0 or code == 3, err)
      local mutating = 0
      for _, r in ipairs(s:requests()) do if MUTATING[r.operation] then mutating = mutating + 1 end end
      assert.is_true(mutating > 0)
      local start = events_of(log)[1]
      assert.are.equal(policy_file, start.policy.path)
      assert.are.equal(sha256(sim.read_file(policy_file)), start.policy.sha256)
      assert.are.equal("invite", start.argv[1])
      assert.are.equal("apply", start.argv[2])
      local text = sim.read_file(log)
      assert.is_nil(text:find("audit-7c1e4b", 1, true), "the ExternalId is in the log")
      assert.is_nil(text:find(prod.secret_access_key, 1, true), "the secret key is in the log")
      assert.matches('"--external-id","[redacted]"', text, 1, true)
      local vcode, out, verr = invite("audit verify " .. log)
      assert.are.equal(0, vcode, out .. verr)
      assert.matches("1 run, chain unbroken, complete", out, 1, true)
      assert.matches("ok: the log is complete and unbroken", out, 1, true)
      -- --json gives the same verdict as fields
      vcode, out = invite("audit verify " .. log .. " --json")
      assert.are.equal(0, vcode)
      local res = cjson.decode(out)
      assert.is_true(res.ok)
      assert.are.equal("complete", res.runs[1].status)
    end)

    it("exit 1 for a truncated, a reordered and an edited log, each with its own message; 2 for no file",
      function()
      local log = tmp .. ".log"
      local code = invite("apply " .. policy_file .. " --services guardduty,macie2 --regions us-east-1 "
        .. "--endpoint-url " .. s.endpoint .. " --audit-log " .. log)
      assert.is_true(code == 0 or code == 3)
      local lines = lines_of(log)
      local function verify_with(changed)
        write_lines(log, changed)
        return invite("audit verify " .. log)
      end
      local cut = {}
      for i = 1, #lines - 1 do cut[i] = lines[i] end
      local c1, o1 = verify_with(cut)
      assert.are.equal(1, c1)
      assert.matches("incomplete: run %S+ has no end", o1)
      assert.matches("FAILED: 1 problem: the log is incomplete", o1, 1, true)
      local moved = { unpack(lines) }
      moved[2], moved[3] = moved[3], moved[2]
      local c2, o2 = verify_with(moved)
      assert.are.equal(1, c2)
      assert.matches("line 2: its prev hash does not match line 1; it is the hash of line 3 (chain): the lines "
        .. "were reordered", o2, 1, true)
      assert.matches("the log is broken", o2, 1, true)
      local edited = { unpack(lines) }
      edited[2] = edited[2]:gsub('"event":', '"event" :')
      local c3, o3 = verify_with(edited)
      assert.are.equal(1, c3)
      assert.matches("line 3: its prev hash does not match line 2 (chain): line 2 was edited", o3, 1, true)
      assert.are_not.equal(o1, o2)
      assert.are_not.equal(o2, o3)
      local c4, o4, e4 = invite("audit verify " .. tmp .. ".nowhere")
      assert.are.equal(2, c4)
      assert.are.equal("", o4)
      assert.matches("invite: cannot open", e4, 1, true)
      local c5, _, e5 = invite("audit check " .. log)
      assert.are.equal(2, c5)
      assert.matches("verify", e5, 1, true)
    end)
  end)
end)
