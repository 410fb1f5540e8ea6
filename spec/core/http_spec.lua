-- invite.core's libcurl transport against spec/support/http_server.py on 127.0.0.1.
local interp = require "support.interp"
local core = require "invite.core"
local cjson = require "cjson.safe"
local socket = require "socket"

local PYTHON = "/usr/bin/python3"
local SERVER = "spec/support/http_server.py"
-- Children run without LD_PRELOAD (the ASan run preloads libasan into this process) and with
-- `exec`, so the shell in between does not linger.
local CLEAN = "exec env -u LD_PRELOAD "

local function run(cmd)
  return interp.execute(CLEAN .. cmd) == 0
end

local function capture(cmd)
  local f = assert(io.popen(CLEAN .. cmd, "r"))
  local out = f:read("*a")
  f:close()
  return out
end

local function start_server(args)
  local pipe = assert(io.popen(CLEAN .. PYTHON .. " -u " .. SERVER .. " " .. (args or "") .. " 2>/dev/null", "r"))
  local port, pid = tonumber(pipe:read("*l")), tonumber(pipe:read("*l"))
  assert(port and pid, "the test server did not start")
  return { port = port, pid = pid, pipe = pipe }
end

local function stop_server(s)
  if s then
    run("/bin/kill " .. s.pid .. " 2>/dev/null")
    s.pipe:close()
  end
end

local function json(res)
  local t = assert(cjson.decode(res.body))
  return t
end

local function tohex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local function header(list, name)
  for _, h in ipairs(list) do
    if h[1] == name then return h[2] end
  end
end

describe("invite.core http", function()
  local srv, base, h

  setup(function()
    srv = start_server()
    base = "http://127.0.0.1:" .. srv.port
  end)

  teardown(function()
    stop_server(srv)
  end)

  before_each(function()
    h = assert(core.http_new{ timeout_ms = 10000 })
  end)

  after_each(function()
    h:close()
  end)

  describe("request", function()
    it("does a GET round trip", function()
      local res, err = h:request{ url = base .. "/hello/world?a=1&b=2" }
      assert.is_nil(err)
      assert.equal(200, res.status)
      local echo = json(res)
      assert.equal("GET", echo.method)
      assert.equal("/hello/world", echo.path)
      assert.equal("a=1&b=2", echo.query)
      assert.equal(0, echo.body_len)
    end)

    it("lower-cases response header names and keeps order and repeats", function()
      local res = assert(h:request{ url = base .. "/" })
      assert.equal("application/json", header(res.headers, "content-type"))
      local echoes = {}
      for _, kv in ipairs(res.headers) do
        assert.equal(kv[1]:lower(), kv[1])
        if kv[1] == "x-echo" then echoes[#echoes + 1] = kv[2] end
      end
      assert.same({ "a", "b" }, echoes)
      assert.equal(tostring(#res.body), header(res.headers, "content-length"))
    end)

    it("does a POST round trip and sends the headers exactly as given", function()
      local body = '{"accountIds":["111122223333"]}'
      local res = assert(h:request{
        method = "POST", url = base .. "/invitation/decline",
        headers = {
          { "Host", "guardduty.us-east-1.amazonaws.com" },
          { "X-Amz-Date", "20150830T123600Z" },
          { "X-Rep", "one" },
          { "X-Rep", "two" },
          { "X-Empty", "" },
        },
        body = body,
      })
      assert.equal(200, res.status)
      local echo = json(res)
      assert.equal("POST", echo.method)
      assert.equal("/invitation/decline", echo.path)
      assert.equal(tohex(body), echo.body_hex)
      assert.same({
        { "Host", "guardduty.us-east-1.amazonaws.com" },
        { "X-Amz-Date", "20150830T123600Z" },
        { "X-Rep", "one" },
        { "X-Rep", "two" },
        { "X-Empty", "" },
        { "Content-Length", tostring(#body) },
      }, echo.headers)
    end)

    it("adds no Expect, Accept or form Content-Type to a large POST", function()
      local body = string.rep("x", 200000)
      local res = assert(h:request{ method = "POST", url = base .. "/big", body = body })
      local echo = json(res)
      assert.equal(#body, echo.body_len)
      assert.same({
        { "Host", "127.0.0.1:" .. srv.port },
        { "Content-Length", tostring(#body) },
      }, echo.headers)
    end)

    it("sends a caller's Content-Type and nothing else of its own on GET", function()
      local res = assert(h:request{ url = base .. "/g", headers = { { "Content-Type", "application/json" } } })
      -- curl puts the Host it derives from the URL first; a caller's Host takes its place
      assert.same({
        { "Host", "127.0.0.1:" .. srv.port },
        { "Content-Type", "application/json" },
      }, json(res).headers)
    end)

    it("passes a caller's Expect through and reports the final response", function()
      local body = string.rep("e", 5000)
      local res = assert(h:request{ method = "POST", url = base .. "/expect", body = body,
                                    headers = { { "Expect", "100-continue" } } })
      assert.equal(200, res.status)
      local echo = json(res)
      assert.equal(#body, echo.body_len)
      assert.equal("100-continue", header(echo.headers, "Expect"))
      assert.equal(1, #(function() local n = {} for _, kv in ipairs(res.headers) do
        if kv[1] == "content-type" then n[#n + 1] = kv end end return n end)())
    end)

    it("does not normalise the path", function()
      local res = assert(h:request{ url = base .. "/a/./b/../c//d" })
      assert.equal("/a/./b/../c//d", json(res).path)
    end)

    it("carries NUL bytes in request and response bodies", function()
      local body = "a\0b\0\0c\255\0"
      local res = assert(h:request{ method = "POST", url = base .. "/nul", body = body })
      assert.equal(tohex(body), json(res).body_hex)
      res = assert(h:request{ method = "PUT", url = base .. "/nul?echo=1", body = body })
      assert.equal(body, res.body)
    end)

    it("supports PUT, DELETE and HEAD", function()
      local res = assert(h:request{ method = "PUT", url = base .. "/p" })
      local echo = json(res)
      assert.equal("PUT", echo.method)
      assert.same({ { "Host", "127.0.0.1:" .. srv.port }, { "Content-Length", "0" } }, echo.headers)

      res = assert(h:request{ method = "DELETE", url = base .. "/d" })
      echo = json(res)
      assert.equal("DELETE", echo.method)
      assert.same({ { "Host", "127.0.0.1:" .. srv.port } }, echo.headers)

      res = assert(h:request{ method = "DELETE", url = base .. "/d", body = "{}" })
      assert.equal("{}", json(res).body_hex:gsub("..", function(x) return string.char(tonumber(x, 16)) end))

      res = assert(h:request{ method = "HEAD", url = base .. "/h" })
      assert.equal(200, res.status)
      assert.equal("", res.body)
      assert.truthy(tonumber(header(res.headers, "content-length")) > 0)

      -- the connection is still good after a HEAD
      res = assert(h:request{ url = base .. "/after-head" })
      assert.equal("GET", json(res).method)
    end)

    it("returns HTTP error statuses as responses", function()
      for _, status in ipairs{ 201, 204, 400, 403, 404, 429, 500, 503 } do
        local res, err = h:request{ method = "POST", url = base .. "/s?status=" .. status, body = "{}" }
        assert.is_nil(err)
        assert.equal(status, res.status)
        if status == 204 then assert.equal("", res.body) end
      end
    end)

    it("reuses the connection across calls (keep-alive)", function()
      local a = json(assert(h:request{ url = base .. "/1" })).client_port
      local b = json(assert(h:request{ method = "POST", url = base .. "/2", body = "x" })).client_port
      local c = json(assert(h:request{ url = base .. "/3?status=404" })).client_port
      assert.equal(a, b)
      assert.equal(a, c)
    end)

    it("reports a refused connection as kind connect", function()
      local port = tonumber(capture(PYTHON .. " " .. SERVER .. " --free-port"))
      local res, err = h:request{ url = "http://127.0.0.1:" .. port .. "/" }
      assert.is_nil(res)
      assert.equal("connect", err.kind)
      assert.equal(7, err.curl_code)
      assert.is_string(err.message)
      local line = tostring(err)
      assert.matches("connect", line)
      assert.not_matches("\n", line)
    end)

    it("reports a timeout as kind timeout", function()
      local t0 = socket.gettime()
      local res, err = h:request{ url = base .. "/slow?delay_ms=3000", timeout_ms = 200 }
      local elapsed = socket.gettime() - t0
      assert.is_nil(res)
      assert.equal("timeout", err.kind)
      assert.equal(28, err.curl_code)
      assert.truthy(elapsed < 2, "took " .. elapsed .. " s")
    end)

    it("uses the client's default timeout", function()
      local hc = assert(core.http_new{ timeout_ms = 200 })
      local res, err = hc:request{ url = base .. "/slow?delay_ms=3000" }
      hc:close()
      assert.is_nil(res)
      assert.equal("timeout", err.kind)
    end)

    it("reports a reset connection as kind reset", function()
      local res, err = h:request{ url = base .. "/r?close=1" }
      assert.is_nil(res)
      assert.equal("reset", err.kind)
      -- and recovers on a new connection
      assert.equal(200, assert(h:request{ url = base .. "/ok" }).status)
    end)

    it("rejects non-http URLs", function()
      for _, url in ipairs{ "file:///etc/passwd", "ftp://127.0.0.1/", "gopher://127.0.0.1/", "127.0.0.1:80/x",
                            "dict://127.0.0.1:" .. srv.port .. "/" } do
        local res, err = h:request{ url = url }
        assert.is_nil(res)
        assert.equal("other", err.kind)
        assert.equal(1, err.curl_code)
        local id, err2 = h:start{ url = url }
        assert.is_nil(id)
        assert.equal("other", err2.kind)
      end
      assert.equal(0, h:pending())
      -- scheme matching ignores case, as URLs do
      assert.equal(200, assert(h:request{ url = "HTTP://127.0.0.1:" .. srv.port .. "/" }).status)
    end)

    it("caps response bodies", function()
      local res, err = h:request{ url = base .. "/b?bytes=100000", max_body = 1000 }
      assert.is_nil(res)
      assert.equal("other", err.kind)
      assert.matches("max_body", err.message)
      res = assert(h:request{ url = base .. "/b?bytes=100000" })
      assert.equal(string.rep("x", 100000), res.body)
      local small = assert(core.http_new{ max_body = 10 })
      res, err = small:request{ url = base .. "/b?bytes=11" }
      assert.is_nil(res)
      assert.equal("other", err and err.kind)
      res = assert(small:request{ url = base .. "/b?bytes=10" })
      assert.equal("xxxxxxxxxx", res.body)
      small:close()
    end)

    it("raises on misuse", function()
      assert.has_error(function() h:request() end)
      assert.has_error(function() h:request{} end)
      assert.has_error(function() h:request{ url = base, method = "PATCH" } end)
      assert.has_error(function() h:request{ url = base, method = "get" } end)
      assert.has_error(function() h:request{ url = base, headers = "Host: x" } end)
      assert.has_error(function() h:request{ url = base, headers = { "Host: x" } } end)
      assert.has_error(function() h:request{ url = base, headers = { { "X-A", "b\r\nX-Injected: 1" } } } end)
      assert.has_error(function() h:request{ url = base, headers = { { "X A", "b" } } } end)
      assert.has_error(function() h:request{ url = base, headers = { { "X-A:", "b" } } } end)
      assert.has_error(function() h:request{ url = base, headers = { { "X-A", 1 } } } end)
      assert.has_error(function() h:request{ url = base, body = 1 } end)
      assert.has_error(function() h:request{ url = base, timeout_ms = -1 } end)
      assert.has_error(function() h:request{ url = base .. "\0x" } end)
      assert.has_error(function() h:request{ url = base, method = "HEAD", body = "x" } end)
      assert.has_error(function() core.http_new{ verify = "no" } end)
      assert.has_error(function() core.http_new{ max_connections = 0 } end)
      assert.has_error(function() core.http_new{ ca_bundle = 1 } end)
      -- the client is still usable afterwards
      assert.equal(200, assert(h:request{ url = base }).status)
    end)
  end)

  describe("start/wait", function()
    local function wait_all(client, limit_s)
      local out, deadline = {}, socket.gettime() + (limit_s or 10)
      while client:pending() > 0 and socket.gettime() < deadline do
        for _, r in ipairs(client:wait(1000)) do
          assert.is_nil(out[r.id])
          out[r.id] = r
        end
      end
      return out
    end

    it("runs requests concurrently", function()
      local N, L = 10, 0.3
      local ids = {}
      local t0 = socket.gettime()
      for i = 1, N do
        local id = assert(h:start{ method = "POST", url = base .. "/c" .. i .. "?delay_ms=" .. math.floor(L * 1000),
                                   body = "n=" .. i })
        assert.is_nil(ids[id])
        ids[id] = i
      end
      assert.equal(N, h:pending())
      local out = wait_all(h)
      local elapsed = socket.gettime() - t0
      assert.equal(0, h:pending())
      local n = 0
      for id, i in pairs(ids) do
        local r = out[id]
        assert.is_nil(r.err)
        assert.equal(200, r.res.status)
        local echo = json(r.res)
        assert.equal("/c" .. i, echo.path)
        assert.equal(tohex("n=" .. i), echo.body_hex)
        n = n + 1
      end
      assert.equal(N, n)
      assert.truthy(elapsed < 3 * L, string.format("%d requests of %.0f ms took %.0f ms", N, L * 1000, elapsed * 1000))
    end)

    it("caps connections per host with max_connections", function()
      local hc = assert(core.http_new{ max_connections = 2 })
      local t0 = socket.gettime()
      local ports = {}
      for i = 1, 6 do assert(hc:start{ url = base .. "/cap" .. i .. "?delay_ms=200" }) end
      for _, r in pairs(wait_all(hc)) do
        assert.equal(200, r.res.status)
        ports[json(r.res).client_port] = true
      end
      local elapsed = socket.gettime() - t0
      hc:close()
      local n = 0
      for _ in pairs(ports) do n = n + 1 end
      assert.equal(2, n)
      assert.truthy(elapsed >= 0.55, "6 requests of 200 ms over 2 connections took " .. elapsed .. " s")
    end)

    it("reuses connections across started transfers and request()", function()
      local id = assert(h:start{ url = base .. "/x" })
      local first = wait_all(h)[id]
      local port = json(first.res).client_port
      id = assert(h:start{ url = base .. "/y" })
      assert.equal(port, json(wait_all(h)[id].res).client_port)
      assert.equal(port, json(assert(h:request{ url = base .. "/z" })).client_port)
    end)

    it("returns errors per transfer", function()
      local ok = assert(h:start{ url = base .. "/ok" })
      local slow = assert(h:start{ url = base .. "/slow?delay_ms=3000", timeout_ms = 200 })
      local bad = assert(h:start{ url = base .. "/r?close=1" })
      local out = wait_all(h)
      assert.equal(200, out[ok].res.status)
      assert.equal("timeout", out[slow].err.kind)
      assert.equal("reset", out[bad].err.kind)
      assert.is_nil(out[slow].res)
      assert.matches("timeout", tostring(out[slow].err))
    end)

    it("polls with wait(0) and returns an empty list when idle", function()
      assert.same({}, h:wait(0))
      assert.same({}, h:wait())
      local id = assert(h:start{ url = base .. "/p?delay_ms=300" })
      local got = h:wait(0)
      assert.same({}, got)
      assert.equal(1, h:pending())
      local t0 = socket.gettime()
      got = h:wait(50)
      assert.truthy(socket.gettime() - t0 < 1)
      assert.same({}, got)
      got = wait_all(h)
      assert.equal(200, got[id].res.status)
    end)

    it("keeps started transfers going during a blocking request", function()
      local id = assert(h:start{ url = base .. "/bg?delay_ms=100" })
      local res = assert(h:request{ url = base .. "/fg?delay_ms=400" })
      assert.equal(200, res.status)
      assert.equal(1, h:pending())
      local t0 = socket.gettime()
      local got = h:wait(0)
      assert.truthy(socket.gettime() - t0 < 0.1)
      assert.equal(1, #got)
      assert.equal(id, got[1].id)
      assert.equal("/bg", json(got[1].res).path)
      assert.equal(0, h:pending())
    end)

    it("keeps a private copy of the body", function()
      local parts = {}
      for i = 1, 5 do
        local body = string.rep(string.char(64 + i), 1000 + i) .. "\0"
        parts[assert(h:start{ method = "PUT", url = base .. "/copy?echo=1", body = body })] = body
      end
      collectgarbage()
      collectgarbage()
      local out = wait_all(h)
      for id, body in pairs(parts) do
        assert.equal(body, out[id].res.body)
      end
    end)

    it("abandons transfers in flight on close", function()
      local hc = assert(core.http_new())
      for i = 1, 3 do assert(hc:start{ url = base .. "/gone" .. i .. "?delay_ms=500" }) end
      hc:wait(0)
      hc:close()
      hc:close()
      assert.has_error(function() hc:pending() end)
      assert.has_error(function() hc:request{ url = base } end)
      assert.matches("closed", tostring(hc))
    end)
  end)

  describe("lifetime", function()
    it("is collected with transfers in flight", function()
      local hc = assert(core.http_new())
      assert(hc:start{ url = base .. "/gc?delay_ms=500" })
      hc:wait(0)
      hc = nil -- luacheck: ignore
      collectgarbage()
      collectgarbage()
    end)

    if _VERSION == "Lua 5.4" then
      it("supports <close>", function()
        local f = assert(load([[
          local core, url = ...
          local h <close> = core.http_new()
          assert(h:request{ url = url })
          return h
        ]]))
        local hc = f(core, base)
        assert.has_error(function() hc:pending() end)
      end)
    end
  end)
end)

describe("invite.core http over TLS", function()
  local dir, srv, url

  setup(function()
    dir = capture("mktemp -d"):gsub("%s+$", "")
    assert(run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 " ..
               "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 " ..
               "-keyout " .. dir .. "/key.pem -out " .. dir .. "/cert.pem >/dev/null 2>&1"))
    srv = start_server("--tls " .. dir .. "/cert.pem " .. dir .. "/key.pem")
    url = "https://127.0.0.1:" .. srv.port .. "/tls"
  end)

  teardown(function()
    stop_server(srv)
    if dir and dir:match("^/tmp/") then run("rm -rf " .. dir) end
  end)

  it("verifies the peer by default", function()
    local h = assert(core.http_new())
    local res, err = h:request{ url = url }
    h:close()
    assert.is_nil(res)
    assert.equal("tls", err.kind)
  end)

  it("trusts a ca_bundle", function()
    local h = assert(core.http_new{ ca_bundle = dir .. "/cert.pem" })
    local res = assert(h:request{ method = "POST", url = url, body = "{}" })
    assert.equal(200, res.status)
    assert.equal("/tls", json(res).path)
    local a = json(assert(h:request{ url = url })).client_port
    local b = json(assert(h:request{ url = url })).client_port
    assert.equal(a, b)
    h:close()
  end)

  it("checks the host name", function()
    local h = assert(core.http_new{ ca_bundle = dir .. "/cert.pem" })
    local res, err = h:request{ url = "https://localhost:" .. srv.port .. "/" }
    h:close()
    assert.is_nil(res)
    assert.equal("tls", err.kind)
  end)

  it("skips verification only when verify = false", function()
    local h = assert(core.http_new{ verify = false })
    assert.equal(200, assert(h:request{ url = url }).status)
    h:close()
    h = assert(core.http_new{ verify = true })
    local _, err = h:request{ url = url }
    assert.equal("tls", err.kind)
    h:close()
  end)

  it("reports an unreadable ca_bundle as a tls error", function()
    local h = assert(core.http_new{ ca_bundle = dir .. "/missing.pem" })
    local _, err = h:request{ url = url }
    h:close()
    assert.equal("tls", err.kind)
  end)
end)

-- Response size limits (issue item 6), the method check (item 13) and the request table's
-- metamethods closing the client mid-call (item 14).
describe("invite.core http limits", function()
  local srv, base
  local errors = require "invite.errors"
  local MiB = 1024 * 1024

  local function count()
    local h = assert(core.http_new())
    local res = assert(h:request{ url = base .. "/_count" })
    h:close()
    return json(res).requests
  end

  local function interpreter() return interp.LUA, interp.CPATH end

  local function with_script(text, fn)
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(text)
    f:close()
    local ok, a, b = pcall(fn, path)
    os.remove(path)
    assert(ok, a)
    return a, b
  end

  setup(function()
    srv = start_server()
    base = "http://127.0.0.1:" .. srv.port
  end)

  teardown(function()
    stop_server(srv)
  end)

  it("caps bodies at 1 MiB by default and names the limit and the option", function()
    local h = assert(core.http_new())
    local res = assert(h:request{ url = base .. "/b?bytes=" .. MiB })
    assert.equal(MiB, #res.body)
    local err
    res, err = h:request{ url = base .. "/b?bytes=" .. (MiB + 1) }
    h:close()
    assert(res == nil, "a body of 1 MiB + 1 byte was accepted")
    assert.equal("other", err.kind)
    assert.matches("1048576 bytes", err.message, 1, true)
    assert.matches("max_body_bytes", err.message, 1, true)
    local e = errors.from_transport(err)
    assert.is_false(e.retryable)
    assert.matches("max_body_bytes", tostring(e), 1, true)
  end)

  it("refuses an endless body quickly, close-delimited or chunked, blocking or started", function()
    local h = assert(core.http_new{ timeout_ms = 20000 })
    for _, mode in ipairs{ "1", "chunked" } do
      local t0 = socket.gettime()
      local res, err = h:request{ url = base .. "/e?endless=" .. mode }
      local elapsed = socket.gettime() - t0
      assert.is_nil(res)
      assert.equal("other", err.kind)
      assert.matches("response body exceeds the limit of 1048576 bytes", err.message, 1, true)
      assert.is_false(errors.from_transport(err).retryable)
      assert.truthy(elapsed < 2, "took " .. elapsed .. " s")
      local id = assert(h:start{ url = base .. "/e?endless=" .. mode, max_body = 5000 })
      local got = {}
      while h:pending() > 0 do
        for _, r in ipairs(h:wait(1000)) do got[r.id] = r end
      end
      assert.is_nil(got[id].res)
      assert.matches("limit of 5000 bytes", got[id].err.message, 1, true)
    end
    -- the client is still usable afterwards
    assert.equal(200, assert(h:request{ url = base .. "/ok" }).status)
    h:close()
  end)

  it("refuses a Content-Length over the limit before any body byte arrives", function()
    local h = assert(core.http_new{ timeout_ms = 5000 })
    local t0 = socket.gettime()
    local res, err = h:request{ url = base .. "/o?oversized=" .. (MiB + 1) }
    local elapsed = socket.gettime() - t0
    assert.is_nil(res)
    assert.equal("other", err and err.kind)
    assert.matches("limit of 1048576 bytes", err.message, 1, true)
    assert.truthy(elapsed < 1, "took " .. elapsed .. " s (the server sends no body)")
    res, err = h:request{ url = base .. "/o?oversized=100000000000000000000" }
    assert.is_nil(res)
    assert.matches("limit of 1048576 bytes", err.message, 1, true)
    -- a HEAD answer has no body whatever its Content-Length says
    res = assert(h:request{ method = "HEAD", url = base .. "/o?oversized=" .. (64 * MiB) })
    assert.equal(200, res.status)
    assert.equal("", res.body)
    h:close()
  end)

  it("keeps memory bounded against endless bodies at concurrency", function()
    local lua, cpath = interpreter()
    local N = 6
    local out = with_script([==[
      package.cpath = arg[1] .. ";" .. package.cpath
      local core = require "invite.core"
      local base, n = arg[2], tonumber(arg[3])
      local function hwm()
        for l in io.lines("/proc/self/status") do
          local v = l:match("^VmHWM:%s*(%d+)")
          if v then return tonumber(v) end
        end
      end
      local h = core.http_new{ timeout_ms = 20000 }
      assert(h:request{ url = base .. "/warm?bytes=1000" })
      local before, failed = hwm(), 0
      for i = 1, n do
        assert(h:start{ url = base .. "/e" .. i .. "?endless=" .. (i % 2 == 0 and "chunked" or "1") })
      end
      while h:pending() > 0 do
        for _, r in ipairs(h:wait(1000)) do
          if r.err and r.err.message:find("limit of 1048576 bytes", 1, true) then failed = failed + 1 end
        end
      end
      local _, err = h:request{ url = base .. "/e?endless=1" }
      if err and err.message:find("limit of 1048576 bytes", 1, true) then failed = failed + 1 end
      io.write(before, " ", hwm(), " ", failed, "\n")
    ]==], function(path)
      return capture(lua .. " " .. path .. " '" .. cpath .. "' " .. base .. " " .. N .. " 2>&1")
    end)
    local before, after, failed = out:match("^(%d+) (%d+) (%d+)\n$")
    assert(before, "the child failed: " .. out)
    before, after, failed = tonumber(before), tonumber(after), tonumber(failed)
    print(("# http limits: VmHWM %d kB before, %d kB after %d concurrent endless bodies and one "
      .. "blocking (growth %d kB)"):format(before, after, N, after - before))
    -- N transfers of at most 1 MiB each, and a few MB for libcurl's buffers
    assert.truthy(after - before < (N + 4) * 1024, "VmHWM grew by " .. (after - before) .. " kB")
    assert.equal(N + 1, failed)
  end)

  describe("client option max_body_bytes", function()
    local client = require "invite.client"
    local function gd(endpoint, opts)
      local o = { region = "us-east-1", endpoint = endpoint, max_attempts = 3,
        credentials = { access_key_id = "AKIDEXAMPLE", secret_access_key = "secret" },
        sleep = function() end }
      for k, v in pairs(opts or {}) do o[k] = v end
      return client.new("guardduty", o)
    end

    it("refuses an endless body once, without retrying", function()
      local c = gd(base .. "/endless", { max_body_bytes = 4096 })
      local n0 = count()
      local res, err = c:list_invitations{}
      assert.is_nil(res)
      assert.equal(1, count() - n0)
      assert.is_false(err.retryable)
      assert.equal("TransportError", err.code)
      assert.matches("limit of 4096 bytes", err.message, 1, true)
      assert.matches("max_body_bytes", err.message, 1, true)
    end)

    it("refuses a body over a smaller cap and passes one under it", function()
      -- the server's JSON answer describing the request is some hundred bytes
      local res, err = gd(base, { max_body_bytes = 64 }):list_invitations{}
      assert.is_nil(res)
      assert.matches("limit of 64 bytes", err.message, 1, true)
      res, err = gd(base, { max_body_bytes = 4096 }):list_invitations{}
      assert.is_nil(err)
      assert.is_table(res)
    end)

    it("must be a positive whole number", function()
      for _, v in ipairs{ 0, -1, 1.5, 0 / 0, math.huge, 2 ^ 60 } do
        local ok, msg = pcall(gd, base, { max_body_bytes = v })
        assert.is_false(ok)
        assert.matches("max_body_bytes", msg, 1, true)
      end
      local ok, msg = pcall(gd, base, { max_body_bytes = "1" })
      assert.is_false(ok)
      assert.matches("max_body_bytes", msg, 1, true)
      ok, msg = pcall(require("invite.transport").new, "curl", { max_body_bytes = 0 })
      assert.is_false(ok)
      assert.matches("max_body_bytes", msg, 1, true)
    end)
  end)

  it("refuses a method with a NUL or another non-token byte and sends nothing", function()
    local h = assert(core.http_new())
    local n0 = count()
    for _, m in ipairs{ "GET\0X", "GET\0", "\0GET", "GE T", "GET\r\nX-A: 1", "GET\t", "PO\127ST", "G\255ET" } do
      local ok, msg = pcall(h.request, h, { method = m, url = base .. "/m" })
      assert.is_false(ok)
      assert.matches("method", msg, 1, true)
      assert.not_matches("\0", msg, 1, true)
      ok, msg = pcall(h.start, h, { method = m, url = base .. "/m" })
      assert.is_false(ok)
      assert.matches("method", msg, 1, true)
    end
    assert.equal(0, h:pending())
    assert.equal(0, count() - n0)
    assert.equal(200, assert(h:request{ method = "GET", url = base .. "/m" }).status)
    h:close()
  end)

  -- Every field read of the request table may run a metamethod, and that one closes the client.
  local CLOSING_INDEX = [==[
    local h, url, field = ...
    local fields = { url = url, headers = { { "X-A", "1" }, { "X-B", "2" } }, body = "{}",
                     method = "POST", timeout_ms = 5000, max_body = 4096 }
    return setmetatable({}, { __index = function(_, k)
      if k == field then h:close() end
      return fields[k]
    end })
  ]==]
  local FIELDS = { "method", "url", "body", "timeout_ms", "max_body", "headers" }

  it("errors cleanly when the request table's __index closes the client", function()
    local make = assert(interp.load(CLOSING_INDEX))
    for _, field in ipairs(FIELDS) do
      for _, call in ipairs{ "request", "start" } do
        for _ = 1, 3 do
          local h = assert(core.http_new())
          local ok, msg = pcall(h[call], h, make(h, base .. "/i", field))
          assert.is_false(ok)
          assert.matches("closed", msg, 1, true)
          assert.has_error(function() h:pending() end)
        end
      end
    end
    collectgarbage()
    collectgarbage()
  end)

  it("leaks nothing under LeakSanitizer when __index closes the client", function()
    -- the sanitizer build of the C core is built for Lua 5.4 only: a lua5.4 child, whatever runs this
    local so = "build/asan/invite/core.so"
    local f = io.open(so, "rb")
    if not f then return pending("needs " .. so .. " (make build-all)") end
    f:close()
    local libasan = capture("gcc -print-file-name=libasan.so"):gsub("%s+$", "")
    local out = with_script([==[
      package.cpath = "build/asan/?.so;" .. package.cpath
      local core = require "invite.core"
      local make = assert(load(arg[2]))
      for _, field in ipairs{ "method", "url", "body", "timeout_ms", "max_body", "headers" } do
        for _, call in ipairs{ "request", "start" } do
          local h = assert(core.http_new())
          local ok, msg = pcall(h[call], h, make(h, arg[1], field))
          assert(not ok and msg:find("closed", 1, true), tostring(msg))
        end
      end
      collectgarbage()
      collectgarbage()
      io.write("done\n")
      io.stdout:flush()
    ]==], function(path)
      local function q(x) return "'" .. x:gsub("'", "'\\''") .. "'" end
      return capture("sh -c " .. q("env LD_PRELOAD=" .. libasan .. " ASAN_OPTIONS=detect_leaks=1:exitcode=23 "
        .. "lua5.4 " .. path .. " " .. base .. "/i " .. q(CLOSING_INDEX) .. " 2>&1; echo rc=$?"))
    end)
    assert.matches("done\n", out, 1, true)
    assert.not_matches("LeakSanitizer", out, 1, true)
    assert.matches("rc=0\n$", out)
  end)
end)
