-- support.tiny_server: starts spec/support/tiny_server.py (container / IMDS / hung endpoints) on
-- a free loopback port and stops it by pid.
--
--   local tiny = require "support.tiny_server"
--   local s = tiny.start{ kind = "imds", token_mode = "required", credentials = {...} }
--   s.url        -- "http://127.0.0.1:PORT"
--   s:requests() -- { {method=, path=, headers={lowercase=value}}, ... }
--   s:stop()
local cjson = require "cjson"

local _M = {}

local function sleep(s)
  local ok, core = pcall(require, "invite.core")
  if ok and core.sleep then return core.sleep(s) end
  os.execute("sleep " .. s)
end

local function shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."

local server_mt = {}
server_mt.__index = server_mt

function server_mt:requests()
  local out = {}
  local f = io.open(self.log_file, "r")
  if not f then return out end
  for line in f:lines() do out[#out + 1] = cjson.decode(line) end
  f:close()
  return out
end

function server_mt:stop()
  if self.pid then
    os.execute("kill " .. self.pid .. " 2>/dev/null")
    self.pid = nil
  end
  os.remove(self.cfg_file); os.remove(self.port_file); os.remove(self.log_file)
end

function _M.start(cfg)
  cfg = cfg or {}
  local base = os.tmpname()
  local s = setmetatable({ cfg_file = base .. ".json", port_file = base .. ".port",
                           log_file = base .. ".log" }, server_mt)
  os.remove(base)
  cfg.port_file, cfg.log_file = s.port_file, s.log_file
  cfg.lifetime = cfg.lifetime or 120
  local f = assert(io.open(s.cfg_file, "w"))
  f:write(cjson.encode(cfg)); f:close()
  local p = assert(io.popen(("env -u LD_PRELOAD /usr/bin/python3 %s %s >/dev/null 2>&1 & echo $!")
    :format(shq(here .. "/tiny_server.py"), shq(s.cfg_file))))
  s.pid = tonumber(p:read("*l"))
  p:close()
  for _ = 1, 200 do
    local pf = io.open(s.port_file, "r")
    if pf then
      s.port = tonumber(pf:read("*a")); pf:close()
      if s.port then break end
    end
    sleep(0.025)
  end
  if not s.port then s:stop(); error("tiny_server did not start") end
  s.url = "http://127.0.0.1:" .. s.port
  return s
end

-- A port with nobody listening (bind, read the port, close).
function _M.free_port()
  local socket = require "socket"
  local srv = assert(socket.bind("127.0.0.1", 0))
  local _, port = srv:getsockname()
  srv:close()
  return tonumber(port)
end

return _M
