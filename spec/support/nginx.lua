-- support.nginx: starts Debian's nginx (with libnginx-mod-http-lua) as one process (master_process
-- off, daemon off) on a free loopback port, in a temporary prefix directory, with this checkout's
-- Lua modules and its LuaJIT build of invite.core; stops it by its pid.
--
--   local nginx = require "support.nginx"
--   if not nginx.available() then ... end            -- nil, reason when nginx or the module is missing
--   local n = nginx.start{ http = "...", server = "...", env = { AWS_REGION = "us-east-1" } }
--   n.url                 -- "http://127.0.0.1:PORT"
--   n:error_log()         -- the contents of its error.log (for assertion messages)
--   n:stop()
--
-- `lua_path` (e.g. "/x/?.lua;") goes first in lua_package_path; `http` is added to the http{}
-- block, `server` inside the server{} block; every variable of `env`
-- is set for the nginx process and named in an `env` directive so Lua sees it with os.getenv.
-- Nothing is installed here (the Makefile's apt list has nginx and libnginx-mod-http-lua).
local interp = require "support.interp"
local _M = {}

local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local function shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local root do
  local p = io.popen("cd " .. shq(here) .. "/../.. && pwd")
  root = p:read("*l")
  p:close()
end
_M.root = root

local MODULE_DIRS = { "/usr/lib/nginx/modules", "/usr/share/nginx/modules" }
_M.NGINX = "/usr/sbin/nginx"

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function sleep(s)
  local ok, core = pcall(require, "invite.core")
  if ok and core.sleep then return core.sleep(s) end
  os.execute("sleep " .. s)
end

-- Paths of ndk and the lua module, or nil, reason.
function _M.modules()
  for _, d in ipairs(MODULE_DIRS) do
    local ndk, lua = d .. "/ndk_http_module.so", d .. "/ngx_http_lua_module.so"
    if exists(ndk) and exists(lua) then return { ndk = ndk, lua = lua } end
  end
  return nil, "ngx_http_lua_module.so / ndk_http_module.so not found under " .. table.concat(MODULE_DIRS, ", ")
end

function _M.available()
  if not exists(_M.NGINX) then return nil, _M.NGINX .. " not found (apt-get install nginx)" end
  local m, err = _M.modules()
  if not m then return nil, err .. " (apt-get install libnginx-mod-http-lua)" end
  if not exists(root .. "/build/luajit/invite/core.so") then
    return nil, "build/luajit/invite/core.so is missing (make build/luajit/invite/core.so)"
  end
  return true
end

-- A free loopback TCP port (bound, read, released).
function _M.free_port()
  local socket = require "socket"
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

local function render(o)
  local m = assert(_M.modules())
  local env_lines = {}
  local names = {}
  for k in pairs(o.env or {}) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do env_lines[#env_lines + 1] = "env " .. k .. ";" end
  return table.concat({
    "load_module " .. m.ndk .. ";",
    "load_module " .. m.lua .. ";",
    "daemon off;",
    "master_process off;",
    "worker_processes 1;",
    "pid " .. o.prefix .. "/logs/nginx.pid;",
    "error_log " .. o.prefix .. "/logs/error.log " .. (o.log_level or "info") .. ";",
    table.concat(env_lines, "\n"),
    "events { worker_connections 256; }",
    "http {",
    "  access_log off;",
    "  client_body_temp_path " .. o.prefix .. "/tmp/body;",
    "  proxy_temp_path " .. o.prefix .. "/tmp/proxy;",
    "  fastcgi_temp_path " .. o.prefix .. "/tmp/fastcgi;",
    "  uwsgi_temp_path " .. o.prefix .. "/tmp/uwsgi;",
    "  scgi_temp_path " .. o.prefix .. "/tmp/scgi;",
    "  lua_package_path '" .. (o.lua_path or "") .. root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;"
      .. root .. "/spec/?.lua;;';",
    "  lua_package_cpath '" .. root .. "/build/luajit/?.so;;';",
    o.http or "",
    "  server {",
    "    listen 127.0.0.1:" .. o.port .. ";",
    "    location = /__ready { return 200 'ok'; }",
    o.server or "",
    "  }",
    "}",
  }, "\n") .. "\n"
end

local mt = {}
mt.__index = mt

function mt:error_log()
  return read(self.prefix .. "/logs/error.log") or "(no error.log)"
end

function mt:alive()
  return self.pid ~= nil and interp.execute("kill -0 " .. self.pid .. " 2>/dev/null") == 0
end

function mt:stop()
  if not self.pid then return end
  os.execute("kill -QUIT " .. self.pid .. " 2>/dev/null")
  for _ = 1, 100 do
    if not self:alive() then break end
    sleep(0.05)
  end
  if self:alive() then os.execute("kill -KILL " .. self.pid .. " 2>/dev/null") end
  self.pid = nil
  if not os.getenv("INVITE_KEEP_NGINX") then os.execute("rm -rf " .. shq(self.prefix)) end
end

-- start{http=, server=, env=, log_level=} -> server object; raises with error.log on failure
function _M.start(o)
  o = o or {}
  local ok, why = _M.available()
  if not ok then error("support.nginx: " .. why, 2) end
  local prefix = os.tmpname()
  os.remove(prefix)
  assert(0 == interp.execute("mkdir -p " .. shq(prefix .. "/logs") .. " " .. shq(prefix .. "/tmp") .. " "
    .. shq(prefix .. "/conf")))
  local port = o.port or _M.free_port()
  local cfg = { prefix = prefix, port = port, http = o.http, server = o.server, env = o.env,
                log_level = o.log_level, lua_path = o.lua_path }
  local conf = prefix .. "/conf/nginx.conf"
  local f = assert(io.open(conf, "w"))
  f:write(render(cfg))
  f:close()
  local envs = { "env -u LD_PRELOAD" }
  for k, v in pairs(o.env or {}) do envs[#envs + 1] = shq(k .. "=" .. v) end
  local cmd = table.concat(envs, " ") .. " " .. _M.NGINX .. " -p " .. shq(prefix) .. " -e "
    .. shq(prefix .. "/logs/error.log") .. " -c " .. shq(conf) .. " >" .. shq(prefix .. "/logs/stdout.log")
    .. " 2>&1 & echo $!"
  local p = assert(io.popen(cmd, "r"))
  local pid = tonumber(p:read("*l"))
  p:close()
  local self = setmetatable({ prefix = prefix, port = port, pid = pid, conf = conf,
                              url = "http://127.0.0.1:" .. port }, mt)
  -- ready when /__ready answers
  local http = require("invite.core").http_new{ timeout_ms = 1000, connect_timeout_ms = 200 }
  for _ = 1, 100 do
    local res = http:request{ method = "GET", url = self.url .. "/__ready", headers = {} }
    if res and res.status == 200 then return self end
    if not self:alive() then break end
    sleep(0.05)
  end
  local log = self:error_log() .. (read(prefix .. "/logs/stdout.log") or "")
  self:stop()
  error("support.nginx: nginx did not start (" .. cmd .. ")\n" .. log, 2)
end

return _M
