-- Integration: invite inside nginx (Debian's nginx + libnginx-mod-http-lua, LuaJIT build of
-- invite.core). One nginx process (master_process off, one worker) on a free loopback port runs
-- list, decline and a policy against the simulator from request handlers and from a timer, and
-- the worker stays free while a call waits on injected simulator latency.
-- Needs: nginx, libnginx-mod-http-lua (apt), build/luajit/invite/core.so.
local interp = require "support.interp"
local cjson = require "cjson"
local core = require "invite.core"
local nginx = require "support.nginx"

local ROOT = nginx.root
local ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
local SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
local MEMBER, ADMIN, STRANGER = "111122223333", "444455556666", "777788889999"

-- The simulated organisation: one member account with its key, two inviters.
local FIXTURE = {
  accounts = {
    { id = MEMBER, name = "member", access_keys = { { id = ACCESS_KEY, secret = SECRET_KEY } } },
    { id = ADMIN, name = "admin" },
    { id = STRANGER, name = "stranger" },
  },
  invitations = {
    { service = "guardduty", region = "us-east-1", account = MEMBER, inviter = ADMIN, id = "gd-admin",
      invited_at = "now-3d" },
    { service = "guardduty", region = "us-east-1", account = MEMBER, inviter = STRANGER, id = "gd-stranger",
      invited_at = "now-40d" },
    { service = "macie2", region = "us-east-1", account = MEMBER, inviter = STRANGER, id = "m-stranger",
      invited_at = "now-1d" },
    { service = "securityhub", region = "us-east-1", account = MEMBER, inviter = ADMIN, id = "sh-admin",
      invited_at = "now-2d" },
  },
}

local function shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function ngx_escape(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

-- The simulator: through spec/support/sim.lua when it exists, else `bin/invite sim` directly.
local function start_sim(fixture_path)
  local ok, sim = pcall(require, "support.sim")
  if ok then return sim.start{ fixtures = fixture_path } end
  local p = assert(io.popen("cd " .. shq(ROOT) .. " && env -u LD_PRELOAD " .. interp.LUA
    .. " bin/invite sim --fixtures "
    .. shq(fixture_path) .. " --port 0 &", "r"))
  local line = p:read("*l") or ""
  local url, pid = line:match("listening on (http://[%d.]+:%d+) %(pid (%d+)%)")
  assert(url, "simulator did not start: " .. line)
  return { endpoint = url, pid = tonumber(pid), stop = function(s)
    os.execute("kill " .. s.pid .. " 2>/dev/null")
    p:close()
  end }
end

local http = core.http_new{ timeout_ms = 20000, connect_timeout_ms = 1000 }

local function call(method, url, body)
  local res, err = http:request{ method = method, url = url, headers = {}, body = body }
  assert(res, "request to " .. url .. " failed: " .. tostring(err and err.message))
  return res
end

describe("invite inside nginx (ngx_lua)", function()
  local ngx_server, sim, fixture_path

  local function explain(res)
    return "\nHTTP " .. tostring(res and res.status) .. ": " .. tostring(res and res.body)
      .. "\n--- nginx error.log ---\n" .. ngx_server:error_log()
  end

  local function get_json(path, method)
    local res = call(method or "GET", ngx_server.url .. path)
    assert.are.equal(200, res.status, explain(res))
    local doc = cjson.decode(res.body)
    return doc, res
  end

  local function set_faults(spec)
    local res = call("POST", sim.endpoint .. "/__sim/faults", spec)
    assert.are.equal(200, res.status, res.body)
  end

  setup(function()
    assert(nginx.available())
    fixture_path = os.tmpname()
    local f = assert(io.open(fixture_path, "w"))
    f:write(cjson.encode(FIXTURE))
    f:close()
    sim = start_sim(fixture_path)
    ngx_server = nginx.start{
      lua_path = ROOT .. "/examples/nginx/?.lua;",
      env = {
        AWS_ACCESS_KEY_ID = ACCESS_KEY, AWS_SECRET_ACCESS_KEY = SECRET_KEY, AWS_REGION = "us-east-1",
        INVITE_ENDPOINT = sim.endpoint, HOME = "/nonexistent", AWS_CONFIG_FILE = "/nonexistent/config",
        AWS_SHARED_CREDENTIALS_FILE = "/nonexistent/credentials", AWS_EC2_METADATA_DISABLED = "true",
      },
      http = table.concat({
        -- requiring everything in init_by_lua proves require does no I/O (no cosockets there)
        "init_by_lua_block { require 'invite'; require 'invite.client'; require 'invite.runner';",
        "  require 'invite.credentials'; require 'invite.cosocket'; require 'invite_nginx';",
        "  INIT_KIND = require('invite.transport').default_kind() }",
        "init_worker_by_lua_block { assert(require('invite_nginx').start_sweeper(3600, false)) }",
      }, "\n"),
      server = table.concat({
        "location = /list { content_by_lua_block { require('invite_nginx').list() } }",
        "location = /decline { content_by_lua_block { require('invite_nginx').decline() } }",
        "location = /policy { content_by_lua_block { require('invite_nginx').policy_handler() } }",
        "location = /last-sweep { content_by_lua_block { require('invite_nginx').last_sweep_handler() } }",
        "location = /kinds { content_by_lua_block {",
        "  local kind = require('invite.transport').default_kind()",
        "  ngx.say(require('cjson').encode{ init = INIT_KIND, content = kind }) } }",
        "location = /ping { return 200 'pong'; }",
      }, "\n"),
    }
  end)

  teardown(function()
    if ngx_server then ngx_server:stop() end
    if sim then sim:stop() end
    if fixture_path then os.remove(fixture_path) end
  end)

  before_each(function()
    call("POST", sim.endpoint .. "/__sim/reset")
    set_faults("")
  end)

  it("chooses curl in init_by_lua and cosockets in a request handler", function()
    local k = get_json("/kinds")
    assert.are.same({ init = "curl", content = "cosocket" }, k)
  end)

  it("lists invitations from a request handler over cosockets", function()
    local doc = get_json("/list?service=guardduty")
    assert.are.equal("cosocket", doc.transport)
    local ids = {}
    for _, inv in ipairs(doc.invitations) do ids[#ids + 1] = inv.InvitationId end
    table.sort(ids)
    assert.are.same({ "gd-admin", "gd-stranger" }, ids)
    local m = get_json("/list?service=macie2")
    assert.are.equal(1, #m.invitations)
    assert.are.equal(STRANGER, m.invitations[1].accountId)
  end)

  it("declines an invitation from a request handler", function()
    local doc = get_json("/decline?service=guardduty&account=" .. STRANGER, "POST")
    assert.are.equal("cosocket", doc.transport)
    assert.are.same({}, doc.result.UnprocessedAccounts or {})
    -- GuardDuty keeps a declined invitation, no longer "Invited"
    local after = get_json("/list?service=guardduty")
    local status = {}
    for _, inv in ipairs(after.invitations) do status[inv.AccountId] = inv.RelationshipStatus end
    assert.are.equal("Invited", status[ADMIN])
    assert.are_not.equal("Invited", status[STRANGER], cjson.encode(after))
  end)

  it("honours a per-client transport override (curl) inside nginx", function()
    local doc = get_json("/list?service=guardduty&transport=curl")
    assert.are.equal("curl", doc.transport)
    assert.are.equal(2, #doc.invitations)
  end)

  it("runs a policy from a request handler and returns the report as JSON", function()
    local report = get_json("/policy?apply=1")
    assert.are.same({}, report.errors, explain())
    assert.are.same({ declined = 3, declined_and_deleted = 1 }, report.totals.outcomes)
    assert.are.equal(4, report.totals.invitations)
    assert.are.equal(3, report.totals.actions.decline)
    assert.are.equal(1, report.totals.actions.decline_and_delete)
    -- everything declined: no invitation is still pending; the stale one is deleted
    local fields = { guardduty = "RelationshipStatus", macie2 = "relationshipStatus", securityhub = "MemberStatus" }
    for svc, field in pairs(fields) do
      local doc = get_json("/list?service=" .. svc)
      for _, inv in ipairs(doc.invitations) do
        assert.are_not.equal("Invited", inv[field], svc .. ": " .. cjson.encode(inv))
        assert.are_not.equal("gd-stranger", inv.InvitationId)
      end
    end
  end)

  it("runs the policy's scopes concurrently as light threads", function()
    set_faults("latency=500")
    local t0 = core.monotime()
    local report = get_json("/policy")
    local took = core.monotime() - t0
    if os.getenv("INVITE_VERBOSE") then io.stderr:write(("\npolicy, 6 scopes x 0.5 s: %.3f s\n"):format(took)) end
    assert.are.same({}, report.errors)
    -- the five regional services in the one region, and Organizations (global)
    assert.are.equal(6, #report.scopes)
    -- GetCallerIdentity, then six scopes each waiting 0.5 s per call, at most two calls in a row
    -- (Organizations' first page of handshakes is empty with a NextToken): about 1.5 s, not the
    -- 3.5 s or more of one scope after another
    assert.is_true(took >= 1.0 and took < 2.5, ("policy took %.2f s"):format(took))
  end)

  it("sweeps from ngx.timer (init_worker_by_lua)", function()
    local doc
    for _ = 1, 100 do
      doc = get_json("/last-sweep")
      if doc.count and doc.count >= 1 then break end
      core.sleep(0.05)
    end
    assert.is_true(doc.count >= 1, "no sweep ran" .. explain())
    assert.are.same({}, doc.errors)
    assert.are.equal(4, doc.totals.invitations)
  end)

  -- Two requests at once to the one worker: a slow one waiting on the simulator, a fast one.
  -- -> seconds the slow one took, seconds the fast one took, both responses
  local function race(slow_path, fast_path)
    local t0 = core.monotime()
    local slow_id = assert(http:start{ method = "GET", url = ngx_server.url .. slow_path, headers = {} })
    core.sleep(0.1) -- let nginx start the slow call
    local fast_id = assert(http:start{ method = "GET", url = ngx_server.url .. fast_path, headers = {} })
    local times, res = {}, {}
    while not (times[slow_id] and times[fast_id]) do
      for _, d in ipairs(http:wait(100)) do
        times[d.id] = core.monotime() - t0
        res[d.id] = d.res or d.err
      end
      assert(core.monotime() - t0 < 15, "requests did not finish" .. explain())
    end
    if os.getenv("INVITE_VERBOSE") then
      io.stderr:write(("\n%s: %.3f s, %s: %.3f s\n"):format(slow_path, times[slow_id], fast_path, times[fast_id]))
    end
    return times[slow_id], times[fast_id], res[slow_id], res[fast_id]
  end

  it("does not block the worker while a call waits on simulator latency", function()
    set_faults("guardduty latency=1000")
    for _, fast in ipairs{ "/ping", "/list?service=macie2" } do
      local slow_t, fast_t, slow_res, fast_res = race("/list?service=guardduty", fast)
      assert.are.equal(200, slow_res.status, explain(slow_res))
      assert.are.equal(200, fast_res.status, explain(fast_res))
      assert.is_true(slow_t >= 1.0, ("slow request took %.3f s"):format(slow_t))
      -- the fast one started at 0.1 s and answers at once, well before the slow one
      assert.is_true(fast_t < 0.5, ("%s answered after %.3f s while the slow call was in flight%s")
        :format(fast, fast_t, explain()))
      assert.is_true(fast_t < slow_t - 0.5, ("fast %.3f s, slow %.3f s"):format(fast_t, slow_t))
    end
  end)

  it("control: the curl transport forced inside nginx does block the worker", function()
    set_faults("guardduty latency=1000")
    local slow_t, fast_t = race("/list?service=guardduty&transport=curl", "/ping")
    assert.is_true(slow_t >= 1.0)
    assert.is_true(fast_t >= 0.8, ("fast %.3f s: expected the blocked worker to delay it"):format(fast_t))
  end)
end)

-- The cosocket transport on its own, against nginx's own locations: chunked bodies, keepalive
-- reuse, timeouts, connection errors, TLS with and without a trusted certificate.
describe("invite.cosocket transport inside nginx", function()
  local ngx_server, dir, tls_port, dead_port

  local function probe(args)
    local q = {}
    for k, v in pairs(args) do q[#q + 1] = k .. "=" .. ngx_escape(v) end
    local res = call("GET", ngx_server.url .. "/probe?" .. table.concat(q, "&"))
    assert.are.equal(200, res.status, res.body .. "\n" .. ngx_server:error_log())
    local doc = cjson.decode(res.body)
    for i, r in ipairs(doc.r) do doc[i] = r end
    return doc
  end

  setup(function()
    assert(nginx.available())
    dir = os.tmpname()
    os.remove(dir)
    assert(0 == interp.execute("mkdir -p " .. shq(dir)))
    local gen = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
      .. "-addext subjectAltName=DNS:127.0.0.1,IP:127.0.0.1 "
    assert(0 == interp.execute(gen .. "-keyout " .. shq(dir .. "/key.pem") .. " -out " .. shq(dir .. "/cert.pem")
      .. " >/dev/null 2>&1"), "openssl req failed")
    assert(0 == interp.execute(gen .. "-keyout " .. shq(dir .. "/other-key.pem") .. " -out " .. shq(dir .. "/other.pem")
      .. " >/dev/null 2>&1"), "openssl req failed")
    tls_port, dead_port = nginx.free_port(), nginx.free_port()
    ngx_server = nginx.start{
      http = table.concat({
        "lua_ssl_trusted_certificate " .. dir .. "/cert.pem;",
        "server {",
        "  listen 127.0.0.1:" .. tls_port .. " ssl;",
        "  ssl_certificate " .. dir .. "/cert.pem;",
        "  ssl_certificate_key " .. dir .. "/key.pem;",
        "  location / { return 200 'secure'; }",
        "}",
      }, "\n"),
      server = table.concat({
        -- flushed in parts: nginx answers HTTP/1.1 with Transfer-Encoding: chunked
        "location = /chunked { content_by_lua_block {",
        "  for i = 1, 5 do ngx.print(('part' .. i .. ';'):rep(1000)); ngx.flush(true) end } }",
        "location = /conn { content_by_lua_block { ngx.print(ngx.var.connection) } }",
        "location = /echo { content_by_lua_block { ngx.req.read_body();",
        "  ngx.print(ngx.req.get_method(), ' ', ngx.var.http_x_test or '', ' ', ngx.req.get_body_data() or '') } }",
        "location = /sleep { content_by_lua_block { ngx.sleep(2); ngx.print('late') } }",
        -- bodies without end (up to 256 MiB), chunked or close-delimited, and a Content-Length
        -- of 1 TiB with no body at all
        "location = /endless { content_by_lua_block {",
        "  local piece = ('x'):rep(65536)",
        "  for _ = 1, 4096 do if not ngx.print(piece) or not ngx.flush(true) then return end end } }",
        "location = /endless-close { chunked_transfer_encoding off; content_by_lua_block {",
        "  local piece = ('x'):rep(65536)",
        "  for _ = 1, 4096 do if not ngx.print(piece) or not ngx.flush(true) then return end end } }",
        "location = /oversized { content_by_lua_block {",
        "  ngx.header['Content-Length'] = 1099511627776; ngx.send_headers(); ngx.flush(true); ngx.sleep(5) } }",
        "location = /small { content_by_lua_block { ngx.print(('s'):rep(tonumber(ngx.var.arg_n))) } }",
        "location = /probe { content_by_lua_block {",
        "  local a = ngx.req.get_uri_args()",
        "  local t = require('invite.transport').new(nil, { verify = a.verify ~= '0',",
        "    max_body_bytes = tonumber(a.max_body_bytes) })",
        "  local out = { kind = t.kind, r = {} }",
        "  for i = 1, tonumber(a.n or 1) do",
        "    ngx.update_time(); local t0 = ngx.now()",
        "    local res, err = t:request{ method = a.method or 'GET', url = a.url,",
        "      headers = { { 'X-Test', 'yes' } }, body = a.body, timeout_ms = tonumber(a.timeout_ms) }",
        "    out.r[i] = res and { status = res.status, body = res.body, headers = res.headers } or { err = err }",
        "    ngx.update_time(); out.r[i].elapsed = ngx.now() - t0",
        "  end",
        "  ngx.print(require('cjson').encode(out)) } }",
        "location = /probe-untrusted { lua_ssl_trusted_certificate " .. dir .. "/other.pem;",
        "  content_by_lua_block {",
        "  local t = require('invite.transport').new('cosocket')",
        "  local res, err = t:request{ method = 'GET', url = ngx.req.get_uri_args().url, headers = {} }",
        "  ngx.print(require('cjson').encode{ res = res, err = err }) } }",
      }, "\n"),
    }
  end)

  teardown(function()
    if ngx_server then ngx_server:stop() end
    if dir then os.execute("rm -rf " .. shq(dir)) end
  end)

  it("reads chunked bodies and keeps the connection for the next request", function()
    local out = probe{ url = ngx_server.url .. "/chunked", n = 2 }
    assert.are.equal("cosocket", out.kind)
    local want = ""
    for i = 1, 5 do want = want .. ("part" .. i .. ";"):rep(1000) end
    for i = 1, 2 do
      assert.are.equal(200, out[i].status)
      assert.are.equal(want, out[i].body)
    end
    local te
    for _, h in ipairs(out[1].headers) do if h[1] == "transfer-encoding" then te = h[2] end end
    assert.are.equal("chunked", te)
    local conn = probe{ url = ngx_server.url .. "/conn", n = 3 }
    assert.are.equal(conn[1].body, conn[2].body, "the pooled connection was not reused")
    assert.are.equal(conn[1].body, conn[3].body)
  end)

  it("sends method, headers and body with Content-Length", function()
    local out = probe{ url = ngx_server.url .. "/echo", method = "POST", body = "hello=1" }
    assert.are.equal("POST yes hello=1", out[1].body)
  end)

  it("maps timeouts and refused connections to error kinds", function()
    local out = probe{ url = ngx_server.url .. "/sleep", timeout_ms = 200 }
    assert.are.equal("timeout", out[1].err.kind)
    out = probe{ url = "http://127.0.0.1:" .. dead_port .. "/" }
    assert.are.equal("connect", out[1].err.kind)
    assert.matches("127.0.0.1:" .. dead_port, out[1].err.message, 1, true)
  end)

  it("refuses response bodies over max_body_bytes (default 1 MiB) without retrying", function()
    local limit = "response body exceeds the limit of 1048576 bytes (client option max_body_bytes)"
    for _, path in ipairs{ "/endless", "/endless-close", "/oversized" } do
      local out = probe{ url = ngx_server.url .. path, timeout_ms = 10000 }
      assert.is_nil(out[1].status, path)
      assert.are.equal("other", out[1].err.kind, path)
      assert.matches(limit, out[1].err.message, 1, true)
      assert.is_false(require("invite.errors").from_transport(out[1].err).retryable)
      assert.truthy(out[1].elapsed < 2, path .. " took " .. out[1].elapsed .. " s")
    end
    -- a smaller limit refuses a smaller body, and a body within the limit passes
    local out = probe{ url = ngx_server.url .. "/small?n=5000", max_body_bytes = 4096 }
    assert.matches("limit of 4096 bytes", out[1].err.message, 1, true)
    out = probe{ url = ngx_server.url .. "/endless", max_body_bytes = 100000 }
    assert.matches("limit of 100000 bytes", out[1].err.message, 1, true)
    out = probe{ url = ngx_server.url .. "/small?n=4096", max_body_bytes = 4096 }
    assert.are.equal(("s"):rep(4096), out[1].body)
  end)

  it("verifies TLS against lua_ssl_trusted_certificate", function()
    local url = "https://127.0.0.1:" .. tls_port .. "/"
    -- first, before a verified connection sits in the pool: a location trusting another CA
    local res = call("GET", ngx_server.url .. "/probe-untrusted?url=" .. ngx_escape(url))
    local doc = cjson.decode(res.body)
    assert.is_nil(doc.res)
    assert.are.equal("tls", doc.err.kind, res.body)
    local out = probe{ url = url, n = 2 }
    assert.are.equal(200, out[1].status, cjson.encode(out[1]))
    assert.are.equal("secure", out[1].body)
    assert.are.equal("secure", out[2].body) -- the second on the pooled TLS connection
    -- verify = false accepts the untrusted certificate (never the default)
    out = probe{ url = url, verify = "0" }
    assert.are.equal("secure", out[1].body)
  end)
end)
