-- examples/deploy/: the four ways of running `invite apply` on a schedule (cron, a systemd service
-- and timer, a Kubernetes CronJob, a GitHub Actions workflow; docs/operations.md). Each file is
-- checked by the tool that would read it (systemd-analyze verify, a YAML parser, cron's line format),
-- and the command each one runs is run: its `invite apply POLICY` becomes this checkout's bin/invite
-- against the simulator (--endpoint-url added, the policy examples/policy.lua, the directories
-- scratch ones), through the same shell the scheduler would use, and must exit 0 and leave its
-- audit log where the example says; a run that fails must reach the scheduler as a failure. No
-- test reaches AWS.
local interp = require "support.interp"
local sim = require "support.sim"
local cjson = require "cjson"

-- the checkout, as an absolute path: the commands run in scratch directories
local ROOT = assert(io.popen("cd " .. sim.shell_quote(sim.ROOT) .. " && pwd")):read("*l")
local DEPLOY = ROOT .. "/examples/deploy/"
local POLICY = ROOT .. "/examples/policy.lua"
local q = sim.shell_quote

local function read(path) return assert(sim.read_file(path), "cannot read " .. path) end

--- Output (stdout and stderr together) and exit code of a shell command.
local function sh(cmd)
  local out = os.tmpname()
  local rc = interp.execute("(" .. cmd .. ") >" .. out .. " 2>&1")
  local text = read(out)
  os.remove(out)
  return text, rc
end

local function mktemp_dir()
  local out, rc = sh("mktemp -d")
  assert(rc == 0, out)
  return (out:gsub("%s+$", ""))
end

--- Files of a directory (names, sorted).
local function ls(dir)
  local out = sh("ls -1 " .. q(dir))
  local t = {}
  for name in out:gmatch("[^\n]+") do t[#t + 1] = name end
  return t
end

--- The YAML documents of a file as Lua tables (PyYAML's safe_load_all, through JSON).
local function yaml_docs(path)
  local out, rc = sh("python3 -c " .. q("import json, sys, yaml\n"
    .. "print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1]))), default=str))") .. " " .. q(path))
  assert(rc == 0, "YAML of " .. path .. " does not parse: " .. out)
  return cjson.decode(out)
end

-- The environment every example's command runs with: the simulator's "prod" member account (the
-- documented fake keys of examples/fixtures/org.json), nothing from this machine's AWS settings.
local function aws_env()
  local prod = sim.keys.prod
  return "env -u LD_PRELOAD -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_ROLE_ARN -u AWS_WEB_IDENTITY_TOKEN_FILE "
    .. "AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true "
    .. "AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=" .. prod.access_key_id
    .. " AWS_SECRET_ACCESS_KEY=" .. q(prod.secret_access_key)
end

--- The example's `<...>invite apply <policy>.lua` made this checkout's CLI against the simulator:
-- exactly one such command in the text; returns the new text and the policy path it named.
local function localise(text, endpoint, policy)
  local named
  local out, n = text:gsub("(%S*invite) apply (%S+%.lua)", function(_, p)
    named = p
    return interp.LUA .. " " .. q(ROOT .. "/bin/invite") .. " apply --endpoint-url " .. endpoint .. " "
      .. q(policy or POLICY)
  end)
  assert.are.equal(1, n, "want exactly one `invite apply POLICY.lua` in:\n" .. text)
  return out, named
end

--- The audit logs (audit-*.jsonl) of a directory, each checked: a start line for apply first, the
-- policy's decisions and outcomes, the end line last.
local function audit_logs(dir)
  local logs = {}
  for _, name in ipairs(ls(dir)) do
    if name:match("^audit%-.*%.jsonl$") then logs[#logs + 1] = name end
  end
  for _, name in ipairs(logs) do
    local events = {}
    for line in read(dir .. "/" .. name):gmatch("[^\n]+") do events[#events + 1] = cjson.decode(line).event end
    assert.are.equal("start", events[1], name)
    assert.are.equal("end", events[#events], name)
    local seen = {}
    for _, e in ipairs(events) do seen[e] = true end
    assert.is_true(seen.decision and seen.outcome, name .. " has no decision or outcome")
  end
  return logs
end

local function no_secrets(path)
  local text = read(path)
  for _, word in ipairs{ "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN",
                         "aws_secret_access_key", "secrets%.", "AKIA", "ASIA" } do
    assert.is_nil(text:find(word), path .. " names " .. word:gsub("%%", "") .. ": credentials do not go in it")
  end
end

describe("examples/deploy", function()
  it("has the four schedulers' files and docs/operations.md explains each, linked from the README", function()
    assert.are.same({ "cronjob.yaml", "github-actions.yml", "invite-apply.service", "invite-apply.timer",
                      "invite.cron" }, ls(DEPLOY))
    local ops = read(ROOT .. "/docs/operations.md")
    for _, name in ipairs(ls(DEPLOY)) do
      assert.is_truthy(ops:find("examples/deploy/" .. name, 1, true), "docs/operations.md does not name " .. name)
      no_secrets(DEPLOY .. name)
    end
    for code = 0, 3 do
      assert.is_truthy(ops:find("| " .. code .. " |", 1, true), "docs/operations.md's exit-code table has no " .. code)
    end
    assert.is_truthy(read(ROOT .. "/README.md"):find("docs/operations.md", 1, true), "README links docs/operations.md")
  end)

  describe("systemd", function()
    local probe_err
    setup(function()
      -- Can systemd-analyze verify units here at all (no systemd as PID 1 is fine: verify loads the
      -- files itself)? A unit that is certainly valid must pass.
      local dir = mktemp_dir()
      sim.write_file(dir .. "/probe.service", "[Service]\nType=oneshot\nExecStart=/bin/true\n")
      local out, rc = sh("systemd-analyze verify " .. q(dir .. "/probe.service"))
      os.execute("rm -rf " .. q(dir))
      if rc ~= 0 then probe_err = "rc " .. rc .. ": " .. out end
    end)

    --- systemd-analyze verify of a directory's units: ok only with exit 0 and nothing said
    -- (systemd accepts an unknown key with a warning; here that is a failure).
    local function verify(dir)
      local out, rc = sh("cd " .. q(dir) .. " && systemd-analyze verify ./invite-apply.service ./invite-apply.timer")
      return rc == 0 and out == "", out, rc
    end

    local function copy_units(edit)
      local dir = mktemp_dir()
      for _, name in ipairs{ "invite-apply.service", "invite-apply.timer" } do
        local text = read(DEPLOY .. name)
        if edit and edit[name] then
          local new, n = text:gsub(edit[name][1], edit[name][2], 1)
          assert.are.equal(1, n, "the deliberate mistake did not apply to " .. name)
          text = new
        end
        sim.write_file(dir .. "/" .. name, text)
      end
      return dir
    end

    it("systemd-analyze verify passes the service and the timer, and fails a copy with a mistake", function()
      if probe_err then
        pending("systemd-analyze cannot verify units in this container: " .. probe_err)
        return
      end
      local dir = copy_units()
      local ok, out, rc = verify(dir)
      os.execute("rm -rf " .. q(dir))
      assert.is_true(ok, "rc " .. rc .. ": " .. out)

      for what, edit in pairs{
        ["a misspelled key"] = { ["invite-apply.service"] = { "ProtectSystem=strict", "ProtectSytem=strict" } },
        ["a relative ExecStart"] = { ["invite-apply.service"] = { "ExecStart=/bin/sh", "ExecStart=bin/sh" } },
        ["a bad OnCalendar"] = { ["invite-apply.timer"] = { "OnCalendar=[^\n]*", "OnCalendar=*-*-* 25:61:00" } },
        ["a Type that does not exist"] = { ["invite-apply.service"] = { "Type=oneshot", "Type=one-shot" } },
      } do
        local bad = copy_units(edit)
        local bok, bout = verify(bad)
        os.execute("rm -rf " .. q(bad))
        assert.is_false(bok, what .. " passed verify: " .. bout)
      end
    end)

    it("the service is hardened (offline exposure score below 2.0), keeps no secret, logs under LogsDirectory",
       function()
      local unit = read(DEPLOY .. "invite-apply.service")
      for _, line in ipairs{ "Type=oneshot", "DynamicUser=yes", "ProtectSystem=strict", "ProtectHome=yes",
                             "LogsDirectory=invite", "StateDirectory=invite", "NoNewPrivileges=yes",
                             "EnvironmentFile=-/etc/invite/invite.env" } do
        assert.is_truthy(unit:find("\n" .. line:gsub("%-", "%%-") .. "\n"), "the service has no " .. line)
      end
      assert.matches("%-%-audit%-log \"%$%${LOGS_DIRECTORY}/", unit)
      assert.matches("\nPersistent=true\n", read(DEPLOY .. "invite-apply.timer"))
      if probe_err then
        pending("systemd-analyze cannot run here: " .. probe_err)
        return
      end
      local out, rc = sh("systemd-analyze security --offline=yes --threshold=20 "
        .. q(DEPLOY .. "invite-apply.service"))
      assert.are.equal(0, rc, out)
      local score = tonumber(out:match("Overall exposure level for invite%-apply%.service: ([%d.]+)"))
      assert.is_truthy(score and score < 2.0, out)
    end)

    describe("its ExecStart", function()
      local s, dir
      before_each(function() s = sim.start{ fixtures = "examples/fixtures/org.json" }; dir = mktemp_dir() end)
      after_each(function() s:stop(); os.execute("rm -rf " .. q(dir)) end)

      --- The service's ExecStart as the shell command systemd passes to sh -c ($$ and %% undone).
      local function exec_start()
        local line = read(DEPLOY .. "invite-apply.service"):match("\nExecStart=([^\n]+)")
        local script = assert(line:match("^/bin/sh %-c '(.*)'$"), "ExecStart is not /bin/sh -c '...': " .. line)
        return (script:gsub("%$%$", "$"):gsub("%%%%", "%%"))
      end

      it("runs invite apply with the audit log in $LOGS_DIRECTORY, exit 0", function()
        local script, policy = localise(exec_start(), s.endpoint)
        assert.are.equal("/etc/invite/policy.lua", policy)
        local out, rc = sh("cd " .. q(dir) .. " && " .. aws_env() .. " LOGS_DIRECTORY=" .. q(dir)
          .. " /bin/sh -c " .. q(script))
        assert.are.equal(0, rc, out)
        local logs = audit_logs(dir)
        assert.are.equal(1, #logs, table.concat(ls(dir), " "))
        assert.matches("^audit%-%d%d%d%d%d%d%d%dT%d%d%d%d%d%dZ%.jsonl$", logs[1])
      end)

      it("passes invite's exit code to systemd (a policy that does not load: 2, the unit fails)", function()
        local script = localise(exec_start(), s.endpoint, dir .. "/missing.lua")
        local _, rc = sh("cd " .. q(dir) .. " && " .. aws_env() .. " LOGS_DIRECTORY=" .. q(dir)
          .. " /bin/sh -c " .. q(script))
        assert.are.equal(2, rc)
      end)
    end)
  end)

  describe("cron", function()
    local FIELDS = { { "minute", 0, 59 }, { "hour", 0, 23 }, { "day of month", 1, 31 }, { "month", 1, 12 },
                     { "day of week", 0, 7 } }

    --- The cron.d file's job lines, each { time = {5 fields}, user =, command = }.
    local function jobs()
      local t = {}
      for line in read(DEPLOY .. "invite.cron"):gmatch("[^\n]+") do
        if not line:match("^%s*#") and not line:match("^%s*$") and not line:match("^[%w_]+=") then
          local f = {}
          for w in line:gmatch("%S+") do f[#f + 1] = w end
          local command = line:match("^%s*" .. ("%S+%s+"):rep(6) .. "(.+)$")
          t[#t + 1] = { time = { f[1], f[2], f[3], f[4], f[5] }, user = f[6], command = command, line = line }
        end
      end
      return t
    end

    it("is one cron.d line: 5 valid time fields, the user, the command; environment lines only besides", function()
      local js = jobs()
      assert.are.equal(1, #js)
      local job = js[1]
      for i, field in ipairs(FIELDS) do
        local v = job.time[i]
        assert.is_truthy(v, "no " .. field[1] .. " field: " .. job.line)
        for part in (v .. ","):gmatch("([^,]*),") do
          local range, step = part:match("^([^/]+)/?(%d*)$")
          assert.is_truthy(range, field[1] .. " " .. v)
          if range ~= "*" then
            local a, b = range:match("^(%d+)%-?(%d*)$")
            assert.is_truthy(a, field[1] .. " " .. v .. " is not a number, range or *")
            for _, n in ipairs{ tonumber(a), tonumber(b) } do
              assert.is_true(n >= field[2] and n <= field[3], field[1] .. " " .. n .. " out of range")
            end
          end
          assert.is_true(step == "" or tonumber(step) > 0)
        end
      end
      assert.are.equal("invite", job.user)
      assert.is_truthy(job.command)
      -- cron turns an unescaped % into a newline
      assert.is_nil(job.command:gsub("\\%%", ""):find("%%"), "an unescaped % in the command")
      assert.matches("\nMAILTO=", read(DEPLOY .. "invite.cron"))
    end)

    describe("its command", function()
      local s, dir
      before_each(function() s = sim.start{ fixtures = "examples/fixtures/org.json" }; dir = mktemp_dir() end)
      after_each(function() s:stop(); os.execute("rm -rf " .. q(dir)) end)

      --- The job's command as cron's /bin/sh gets it, with its directories made scratch ones.
      local function command(policy)
        local cmd, named = localise(jobs()[1].command:gsub("\\%%", "%%"), s.endpoint, policy)
        assert.are.equal("/etc/invite/policy.lua", named)
        cmd = cmd:gsub("/var/log/invite", dir .. "/log"):gsub("/var/lib/invite", dir .. "/lib")
        os.execute("mkdir -p " .. q(dir .. "/log") .. " " .. q(dir .. "/lib"))
        return cmd
      end

      it("prints nothing on success (cron mails nothing) and writes one audit log", function()
        local out, rc = sh(aws_env() .. " PATH=/usr/local/bin:/usr/bin:/bin /bin/sh -c " .. q(command()))
        assert.are.equal(0, rc, out)
        assert.are.equal("", out)
        assert.are.equal(1, #audit_logs(dir .. "/log"))
      end)

      it("on a failed run prints the exit code, its meaning and the run's output (so cron mails them)", function()
        local out = sh(aws_env() .. " PATH=/usr/local/bin:/usr/bin:/bin /bin/sh -c "
          .. q(command(dir .. "/missing.lua")))
        assert.matches("^invite apply exited 2 %(1 errors, 2 usage, 3 unprocessed accounts", out)
        assert.matches("missing%.lua", out)
      end)

      it("does not start while the previous run holds the lock (exit 75, said so)", function()
        local lock = dir .. "/lib/apply.lock"
        local cmd = command()
        local out = sh("flock " .. q(lock) .. " " .. aws_env() .. " /bin/sh -c " .. q(cmd))
        assert.matches("^invite apply exited 75 ", out)
        assert.are.equal(0, #audit_logs(dir .. "/log"))
      end)
    end)
  end)

  describe("Kubernetes CronJob", function()
    local function docs()
      local by_kind = {}
      for _, d in ipairs(yaml_docs(DEPLOY .. "cronjob.yaml")) do by_kind[d.kind] = d end
      return by_kind
    end

    it("parses; Forbid, IRSA service account, audit log on a persistent volume, exit 2 and 3 fail the Job", function()
      local k = docs()
      local cj = assert(k.CronJob, "no CronJob")
      assert.are.equal("batch/v1", cj.apiVersion)
      assert.are.equal("Forbid", cj.spec.concurrencyPolicy)
      assert.are.equal(5, select(2, cj.spec.schedule:gsub("%S+", "")))
      local job = cj.spec.jobTemplate.spec
      local pod = job.template.spec
      assert.are.equal("Never", pod.restartPolicy)
      local sa = assert(k.ServiceAccount, "no ServiceAccount")
      assert.are.equal(sa.metadata.name, pod.serviceAccountName)
      assert.matches("^arn:aws:iam::%d+:role/", sa.metadata.annotations["eks.amazonaws.com/role-arn"])
      local c = pod.containers[1]
      local argv = {}
      for _, a in ipairs(c.command or {}) do argv[#argv + 1] = a end
      for _, a in ipairs(c.args or {}) do argv[#argv + 1] = a end
      local audit
      for i, a in ipairs(argv) do if a == "--audit-log" then audit = argv[i + 1] end end
      assert.is_truthy(audit, "no --audit-log")
      local mount
      for _, m in ipairs(c.volumeMounts) do
        if audit:sub(1, #m.mountPath + 1) == m.mountPath .. "/" then mount = m end
      end
      assert.is_truthy(mount, "the audit log " .. audit .. " is on no volume")
      assert.is_falsy(mount.readOnly)
      local volume
      for _, v in ipairs(pod.volumes) do if v.name == mount.name then volume = v end end
      assert.is_truthy(volume.persistentVolumeClaim, "the audit log's volume is not persistent")
      assert.are.equal(volume.persistentVolumeClaim.claimName, k.PersistentVolumeClaim.metadata.name)
      local rule = job.podFailurePolicy.rules[1]
      assert.are.equal("FailJob", rule.action)
      assert.are.same({ 2, 3 }, rule.onExitCodes.values)
      assert.is_true(c.securityContext.readOnlyRootFilesystem)
      assert.is_false(c.securityContext.allowPrivilegeEscalation)
    end)

    describe("its container's command", function()
      local s, dir
      before_each(function() s = sim.start{ fixtures = "examples/fixtures/org.json" }; dir = mktemp_dir() end)
      after_each(function() s:stop(); os.execute("rm -rf " .. q(dir)) end)

      it("runs invite apply (the $(VAR)s expanded as Kubernetes does), the audit log on the volume, exit 0", function()
        local c = docs().CronJob.spec.jobTemplate.spec.template.spec.containers[1]
        local vars = {}
        for _, e in ipairs(c.env) do
          if e.value then vars[e.name] = e.value
          elseif e.valueFrom and e.valueFrom.fieldRef.fieldPath == "metadata.name" then
            vars[e.name] = "invite-apply-29412345-x7k2p"
          end
        end
        local words = {}
        for _, a in ipairs(c.command) do words[#words + 1] = q(a) end
        for _, a in ipairs(c.args or {}) do words[#words + 1] = q(a) end
        local cmd, named = localise(table.concat(words, " "):gsub("'invite' 'apply' '([^']+)'", "invite apply %1"),
                                    s.endpoint)
        assert.are.equal("/etc/invite/policy.lua", named)
        cmd = cmd:gsub("%$%(([%w_]+)%)", function(name) return assert(vars[name], "no env " .. name) end)
        cmd = cmd:gsub("/var/log/invite/", dir .. "/")
        local out, rc = sh("cd " .. q(dir) .. " && " .. aws_env() .. " " .. cmd)
        assert.are.equal(0, rc, out)
        assert.are.same({ "audit-invite-apply-29412345-x7k2p.jsonl" }, audit_logs(dir))
      end)
    end)
  end)

  describe("GitHub Actions workflow", function()
    local function workflow()
      local d = yaml_docs(DEPLOY .. "github-actions.yml")[1]
      d.on = d.on or d["true"] -- YAML 1.1 reads the key `on` as true
      return d
    end
    local function apply_step(w)
      for _, step in ipairs(w.jobs.apply.steps) do
        if step.run and step.run:find("invite apply", 1, true) then return step end
      end
    end

    it("parses; a daily schedule, OIDC role (no secrets), one run at a time, the audit log uploaded always", function()
      local w = workflow()
      assert.are.equal(5, select(2, w.on.schedule[1].cron:gsub("%S+", "")))
      assert.are.equal("write", w.permissions["id-token"])
      assert.is_false(w.concurrency["cancel-in-progress"])
      local steps = w.jobs.apply.steps
      local creds, upload
      for _, step in ipairs(steps) do
        if step.uses and step.uses:find("^aws%-actions/configure%-aws%-credentials@") then creds = step end
        if step.uses and step.uses:find("^actions/upload%-artifact@") then upload = step end
      end
      assert.is_truthy(creds and creds.with["role-to-assume"], "no configure-aws-credentials with role-to-assume")
      assert.is_nil(creds.with["aws-access-key-id"])
      assert.are.equal("always()", upload["if"])
      local audit = apply_step(w).run:match("%-%-audit%-log \"([^/\"]+)/")
      assert.are.equal(audit .. "/", upload.with.path)
    end)

    describe("its apply step", function()
      local s, dir
      before_each(function() s = sim.start{ fixtures = "examples/fixtures/org.json" }; dir = mktemp_dir() end)
      after_each(function() s:stop(); os.execute("rm -rf " .. q(dir)) end)

      local function run(policy)
        local script, named = localise(apply_step(workflow()).run, s.endpoint, policy)
        assert.are.equal("invite/policy.lua", named)
        sim.write_file(dir .. "/step.sh", script)
        -- GitHub's `run` on Linux: bash --noprofile --norc -eo pipefail {0}
        return sh("cd " .. q(dir) .. " && " .. aws_env() .. " GITHUB_RUN_ID=4242 GITHUB_RUN_ATTEMPT=1 "
          .. "bash --noprofile --norc -eo pipefail step.sh")
      end

      it("runs invite apply, exit 0, the audit log where the upload step takes it", function()
        local out, rc = run()
        assert.are.equal(0, rc, out)
        assert.are.same({ "audit-4242-1.jsonl" }, audit_logs(dir .. "/audit"))
      end)

      it("fails the job with invite's exit code and an annotation saying what it means", function()
        local out, rc = run(dir .. "/missing.lua")
        assert.are.equal(2, rc, out)
        assert.matches("::error title=invite apply::exit 2: usage", out)
      end)
    end)
  end)
end)
