-- support.tls: a throwaway self-signed certificate and an HTTPS simulator for specs.
--
--   local tls = require "support.tls"
--   local cert = tls.self_signed()     -- { cert = PATH, key = PATH, dir = DIR }, CN/SAN 127.0.0.1 + localhost
--   local s = tls.start_sim{ cert = cert, fixtures = TABLE_OR_PATH, faults = SPEC, seed = N }
--   s.endpoint                          -- "https://127.0.0.1:PORT"
--   s:requests(), s:set_faults(spec [, seed]), s:reset(), s:state(), s:control(method, path, body)
--   s:stop()                            -- SIGTERM to its own pid
--   tls.remove(cert)
--
-- The simulator runs as `invite sim --tls-cert ... --tls-key ...` (LuaSec); control requests go
-- over TLS too, verified against the same certificate.
local cjson = require "cjson.safe"
local socket = require "socket"
local sim = require "support.sim"

local _M = {}

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- Generates a self-signed certificate (RSA 2048, one day) for 127.0.0.1 and localhost with
-- `openssl req -x509`. Returns { cert, key, dir }; raises when openssl fails.
function _M.self_signed()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. shell_quote(dir)))
  local cert, key = dir .. "/cert.pem", dir .. "/key.pem"
  local cmd = "env -u LD_PRELOAD openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1"
    .. " -addext " .. shell_quote("subjectAltName=IP:127.0.0.1,DNS:localhost")
    .. " -keyout " .. shell_quote(key) .. " -out " .. shell_quote(cert) .. " >" .. shell_quote(dir .. "/openssl.log")
    .. " 2>&1"
  local ok = os.execute(cmd)
  if not (ok == true or ok == 0) then
    error("support.tls: openssl req -x509 failed: " .. tostring(read_file(dir .. "/openssl.log")), 2)
  end
  return { cert = cert, key = key, dir = dir }
end

function _M.remove(c)
  if not c then return end
  os.remove(c.cert)
  os.remove(c.key)
  os.remove(c.dir .. "/openssl.log")
  os.remove(c.dir)
end

local Sim = {}
Sim.__index = Sim

-- opts: cert (from self_signed, required), fixtures (path or table; default the example
-- organisation), faults, seed, lua (interpreter, default lua5.4).
function _M.start_sim(opts)
  assert(opts and opts.cert, "support.tls.start_sim: opts.cert is required")
  local fixtures = opts.fixtures or sim.FIXTURE
  local tmp_fixture
  if type(fixtures) == "table" then
    tmp_fixture = os.tmpname()
    local f = assert(io.open(tmp_fixture, "w"))
    f:write(assert(cjson.encode(fixtures)))
    f:close()
    fixtures = tmp_fixture
  end
  local errfile = os.tmpname()
  local cmd = { "exec env -u LD_PRELOAD", opts.lua or "lua5.4", shell_quote(sim.ROOT .. "/bin/invite"), "sim",
                "--fixtures", shell_quote(fixtures), "--port 0 --exit-with-parent",
                "--tls-cert", shell_quote(opts.cert.cert), "--tls-key", shell_quote(opts.cert.key) }
  if opts.faults then cmd[#cmd + 1] = "--faults " .. shell_quote(opts.faults) end
  if opts.seed then cmd[#cmd + 1] = "--seed " .. shell_quote(opts.seed) end
  cmd[#cmd + 1] = "2>" .. shell_quote(errfile)
  local h = assert(io.popen(table.concat(cmd, " "), "r"))
  local line = h:read("*l")
  local url, pid = (line or ""):match("listening on (https://%S+) %(pid (%d+)%)")
  if not url then
    h:close()
    local err = read_file(errfile) or ""
    os.remove(errfile)
    if tmp_fixture then os.remove(tmp_fixture) end
    error("invite sim --tls-cert did not start: " .. tostring(line or "") .. err, 2)
  end
  return setmetatable({
    endpoint = url, port = tonumber(url:match(":(%d+)$")), pid = tonumber(pid), handle = h, errfile = errfile,
    tmp_fixture = tmp_fixture, host = url:match("^https://(.-):%d+$"), cert = opts.cert,
  }, Sim)
end

function Sim:stderr() return read_file(self.errfile) or "" end

function Sim:stop()
  if self.stopped then return end
  self.stopped = true
  os.execute("kill -TERM " .. tostring(self.pid) .. " 2>/dev/null")
  self.handle:close()
  os.remove(self.errfile)
  if self.tmp_fixture then os.remove(self.tmp_fixture) end
end

-- A TLS connection to the simulator, the certificate verified against our own CA file.
function Sim:connect()
  local ssl = require "ssl"
  local c = assert(socket.tcp())
  c:settimeout(10)
  assert(c:connect(self.host, self.port))
  local s = assert(ssl.wrap(c, { mode = "client", protocol = "any", cafile = self.cert.cert,
                                 verify = "peer", options = "all" }))
  s:settimeout(10)
  assert(s:dohandshake())
  return s
end

function Sim:control(method, path, body)
  local c = self:connect()
  body = body or ""
  c:send(method .. " " .. path .. " HTTP/1.1\r\nHost: " .. self.host .. ":" .. self.port
    .. "\r\nContent-Length: " .. #body .. "\r\nConnection: close\r\n\r\n" .. body)
  local status, _, rbody = sim.read_response(c)
  c:close()
  if status ~= 200 then
    error("sim control " .. method .. " " .. path .. ": " .. tostring(status) .. " " .. tostring(rbody), 2)
  end
  return assert(cjson.decode(rbody))
end

function Sim:requests() return self:control("GET", "/__sim/requests") end
function Sim:state() return self:control("GET", "/__sim/state") end
function Sim:reset() return self:control("POST", "/__sim/reset") end
function Sim:set_faults(spec, seed)
  return self:control("POST", "/__sim/faults", assert(cjson.encode({ spec = spec or "", seed = seed })))
end

return _M
