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
local interp = require "support.interp"
local socket = require "socket"
local sim = require "support.sim"

local _M = {}

local shell_quote, read_file = sim.shell_quote, sim.read_file

-- Generates a self-signed certificate (RSA 2048, one day) for 127.0.0.1 and localhost with
-- `openssl req -x509`. Returns { cert, key, dir }; raises when openssl fails.
function _M.self_signed()
  local dir = os.tmpname()
  os.remove(dir)
  assert(0 == interp.execute("mkdir -p " .. shell_quote(dir)))
  local cert, key = dir .. "/cert.pem", dir .. "/key.pem"
  local cmd = "env -u LD_PRELOAD openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1"
    .. " -addext " .. shell_quote("subjectAltName=IP:127.0.0.1,DNS:localhost")
    .. " -keyout " .. shell_quote(key) .. " -out " .. shell_quote(cert) .. " >" .. shell_quote(dir .. "/openssl.log")
    .. " 2>&1"
  if interp.execute(cmd) ~= 0 then
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

-- The simulator object of support.sim with one difference: its control connections are TLS.
local TlsSim = {}
TlsSim.__index = TlsSim

-- opts: cert (from self_signed, required), fixtures (path or table; default the example
-- organisation), faults, seed, lua (interpreter, default: the one running the spec).
function _M.start_sim(opts)
  assert(opts and opts.cert, "support.tls.start_sim: opts.cert is required")
  local s = sim.start{ fixtures = opts.fixtures, faults = opts.faults, seed = opts.seed, lua = opts.lua,
                       args = { "--tls-cert", opts.cert.cert, "--tls-key", opts.cert.key } }
  if getmetatable(TlsSim) == nil then setmetatable(TlsSim, { __index = getmetatable(s) }) end
  s.cert = opts.cert
  return setmetatable(s, TlsSim)
end

-- A TLS connection to the simulator, the certificate verified against our own CA file.
function TlsSim:connect()
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

return _M
