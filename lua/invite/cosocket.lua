-- invite.cosocket - an HTTP/1.1 transport on ngx_lua cosockets (ngx.socket.tcp), for use
-- inside nginx, where a blocking libcurl call would freeze the whole worker. It returns the
-- same shapes as the "curl" transport (see invite.transport):
--
--   t:request{method, url, headers = {{name, value}...}, body, timeout_ms}
--     -> {status, headers = {{lowercased name, value}...}, body}
--      | nil, {kind = "timeout"|"connect"|"tls"|"reset"|"dns"|"other", message}
--   t:sleep(seconds)   -- ngx.sleep
--
-- Options of new(opts): verify (default true: sslhandshake verifies the peer against
-- `lua_ssl_trusted_certificate`), connect_timeout_ms (10000), timeout_ms (60000, for each send
-- and each receive), keepalive_ms (60000, idle time in the pool), pool_size (32 per host:port),
-- max_body_bytes (DEFAULT_MAX_BODY_BYTES, 1 MiB: the largest response body accepted; a larger
-- Content-Length is refused before reading, chunked and close-delimited bodies are counted as
-- they arrive; the error is kind "other" and names the limit).
-- Host names need a `resolver` directive in nginx; IP literals (127.0.0.1, [::1]) do not.
--
-- Only cosocket-capable phases (rewrite, access, content, timer, ssl_cert, ...) can use it;
-- `yieldable()` tells whether the running code is in one (invite.transport uses it to choose
-- the default transport, invite.scheduler to choose ngx.thread over curl multi).
-- Nothing here touches ngx at require time.
local _M = {}

local type, tonumber, tostring, rawget, setmetatable, error = type, tonumber, tostring, rawget, setmetatable, error
local lower, find, match, format = string.lower, string.find, string.match, string.format
local concat = table.concat

-- The default limit of one response body: the same as CURL_ENGINE_DEFAULT_MAX_BODY in src/curl_engine.h (the
-- answers of these APIs are kilobytes).
local DEFAULT_MAX_BODY_BYTES = 1024 * 1024
_M.DEFAULT_MAX_BODY_BYTES = DEFAULT_MAX_BODY_BYTES
local READ_PIECE = 65536 -- close-delimited bodies are read in pieces of at most this size

local function get_ngx()
  local ngx = rawget(_G, "ngx")
  if type(ngx) == "table" and type(ngx.get_phase) == "function" then return ngx end
  return nil
end

-- Phases in which cosockets, ngx.sleep and ngx.thread may yield.
local YIELDABLE = {
  rewrite = true, server_rewrite = true, access = true, content = true, timer = true,
  ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true, preread = true,
}
_M.YIELDABLE_PHASES = YIELDABLE

--- The ngx table when running inside ngx_lua in a phase where cosockets yield, else nil.
function _M.yieldable()
  local ngx = get_ngx()
  if not ngx then return nil end
  local ok, phase = pcall(ngx.get_phase)
  if ok and YIELDABLE[phase] then return ngx end
  return nil
end

local function fail(kind, message)
  return nil, { kind = kind, message = message }
end

-- Maps a cosocket error string to a transport error kind.
local function classify(err, stage)
  err = tostring(err)
  if err == "timeout" or find(err, "timed out", 1, true) then return "timeout" end
  if stage == "tls" then return "tls" end
  if stage == "connect" then
    if find(err, "resolve", 1, true) or find(err, "resolver", 1, true) then return "dns" end
    return "connect"
  end
  if err == "closed" or find(err, "reset", 1, true) or find(err, "broken pipe", 1, true) then return "reset" end
  return "other"
end

-- scheme://host[:port][/path][?query] -> scheme, host, port, target, authority (invite.util's
-- parser: one for every layer; http and https only, no user:password@)
local function parse_url(url)
  local u = require("invite.util").parse_url(url)
  if not u or (u.scheme ~= "http" and u.scheme ~= "https") then return nil end
  local target = (u.path == "" and "/" or u.path) .. (u.query and ("?" .. u.query) or "")
  return u.scheme, u.host, u.port, target, u.authority
end
_M.parse_url = parse_url

local T = {}
local T_mt = { __index = T }

--- new(opts) -> transport object (kind "cosocket").
function _M.new(opts)
  opts = opts or {}
  local ok, msg = require("invite.transport").check_max_body_bytes(opts.max_body_bytes)
  if not ok then error("invite.cosocket: option " .. msg, 2) end
  return setmetatable({
    kind = "cosocket",
    verify = opts.verify ~= false,
    connect_timeout_ms = opts.connect_timeout_ms or 10000,
    timeout_ms = opts.timeout_ms or 60000,
    keepalive_ms = opts.keepalive_ms or 60000,
    pool_size = opts.pool_size or 32,
    max_body_bytes = opts.max_body_bytes or DEFAULT_MAX_BODY_BYTES,
  }, T_mt)
end

function T.sleep(_, seconds)
  if not seconds or seconds <= 0 then return end
  local ngx = get_ngx()
  if not ngx then error("invite.cosocket: sleep outside nginx", 2) end
  ngx.sleep(seconds)
end

-- Reads the status line and the headers. -> status, headers, header (name -> value), version
local function read_head(sock)
  local line, err = sock:receive("*l")
  if not line then return nil, err end
  local version, status = match(line, "^HTTP/(%d%.%d) (%d%d%d)")
  if not version then return nil, "bad status line" end
  local headers, header = {}, {}
  while true do
    local h, herr = sock:receive("*l")
    if not h then return nil, herr end
    if h == "" then break end
    local name, value = match(h, "^([^:%s]+)%s*:%s*(.-)%s*$")
    if name then
      name = lower(name)
      headers[#headers + 1] = { name, value }
      header[name] = header[name] and (header[name] .. ", " .. value) or value
    end
  end
  return tonumber(status), headers, header, version
end

local function too_large(limit)
  return format("response body exceeds the limit of %d bytes (client option max_body_bytes)", limit)
end

local function read_chunked(sock, limit)
  local parts, total = {}, 0
  while true do
    local line, err = sock:receive("*l")
    if not line then return nil, err end
    local size = tonumber(match(line, "^%s*(%x+)"), 16)
    if not size then return nil, "bad chunk size" end
    if size > limit - total then return nil, too_large(limit) end
    total = total + size
    if size == 0 then
      -- trailers, up to the empty line
      repeat
        local t, terr = sock:receive("*l")
        if not t then return nil, terr end
      until t == ""
      return concat(parts)
    end
    local data, derr = sock:receive(size)
    if not data then return nil, derr end
    parts[#parts + 1] = data
    local crlf, cerr = sock:receive(2)
    if not crlf then return nil, cerr end
  end
end

-- A body that ends when the server closes the connection, read in pieces and counted.
local function read_to_close(sock, limit)
  local parts, total = {}, 0
  while true do
    -- never more than one byte past the limit
    local want = limit - total + 1
    if want > READ_PIECE then want = READ_PIECE end
    local data, err, partial = sock:receive(want)
    data = data or partial
    if data and data ~= "" then
      total = total + #data
      if total > limit then return nil, too_large(limit) end
      parts[#parts + 1] = data
    end
    if err == "closed" then return concat(parts) end
    if err then return nil, err end
  end
end

-- One exchange on a connected socket. -> res, keepalive | nil, err, stage, sent_nothing_back
local function exchange(sock, req, wire, limit)
  local bytes, serr = sock:send(wire)
  if not bytes then return nil, serr, "send", true end
  local status, headers, header, version
  repeat
    status, headers, header, version = read_head(sock)
    if not status then return nil, headers, "receive", true end
  until status ~= 100
  local body = ""
  local keepalive = true
  local conn = lower(header["connection"] or "")
  if find(conn, "close", 1, true) or (version == "1.0" and not find(conn, "keep-alive", 1, true)) then
    keepalive = false
  end
  local no_body = req.method == "HEAD" or status == 204 or status == 304 or (status >= 100 and status < 200)
  if not no_body then
    local te = header["transfer-encoding"]
    local err
    if te and find(lower(te), "chunked", 1, true) then
      body, err = read_chunked(sock, limit)
    elseif header["content-length"] then
      local n = tonumber(header["content-length"])
      if not n or n < 0 then return nil, "bad content-length", "receive" end
      if n > limit then return nil, too_large(limit), "receive" end -- before reading any of it
      if n > 0 then body, err = sock:receive(n) end
    else
      body, err = read_to_close(sock, limit) -- until the server closes
      keepalive = false
    end
    if not body then return nil, err, "receive" end
  end
  return { status = status, headers = headers, body = body }, keepalive
end

--- t:request(req) -> res | nil, err (see the top of this file)
function T.request(self, req)
  if type(req) ~= "table" or type(req.url) ~= "string" then
    error("invite.cosocket: request needs a table with url", 2)
  end
  local ngx = get_ngx()
  if not ngx then return fail("other", "the cosocket transport runs only inside nginx (ngx_lua)") end
  local scheme, host, port, target, authority = parse_url(req.url)
  if not scheme then return fail("other", "unsupported URL: " .. req.url) end
  local method = req.method or "GET"
  local body = req.body or ""

  -- request head: the caller's headers (already signed), plus Host and Content-Length if absent
  local lines = { format("%s %s HTTP/1.1", method, target) }
  local has_host, has_length = false, false
  local hs = req.headers or {}
  for i = 1, #hs do
    local n, v = hs[i][1], hs[i][2]
    local ln = lower(n)
    if ln == "host" then has_host = true elseif ln == "content-length" then has_length = true end
    if find(n, "[\r\n]") or find(tostring(v), "[\r\n]") then
      return fail("other", "header " .. n .. " contains a line break")
    end
    lines[#lines + 1] = n .. ": " .. tostring(v)
  end
  if not has_host then lines[#lines + 1] = "Host: " .. authority end
  if not has_length and (#body > 0 or method == "POST" or method == "PUT" or method == "PATCH") then
    lines[#lines + 1] = "Content-Length: " .. #body
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = body
  local wire = concat(lines, "\r\n")

  local timeout = req.timeout_ms or self.timeout_ms
  local pool = format("invite:%s:%s:%d:%s", scheme, host, port, self.verify and "v" or "nv")

  -- A pooled connection the server has since closed fails before any response byte: retry
  -- such a failure once on a fresh connection (the request never reached the service).
  for attempt = 1, 2 do
    local sock, serr = ngx.socket.tcp()
    if not sock then return fail("other", "cannot create a socket: " .. tostring(serr)) end
    sock:settimeouts(self.connect_timeout_ms, timeout, timeout)
    local ok, cerr = sock:connect(host, port, { pool = pool, pool_size = self.pool_size })
    if not ok then
      return fail(classify(cerr, "connect"), format("connect to %s:%d failed: %s", host, port, tostring(cerr)))
    end
    local reused = (sock:getreusedtimes() or 0) > 0
    if scheme == "https" and not reused then
      local hok, herr = sock:sslhandshake(false, host, self.verify)
      if not hok then
        sock:close()
        return fail(classify(herr, "tls"), format("TLS handshake with %s failed: %s", host, tostring(herr)))
      end
    end
    local res, keep_or_err, stage, nothing_back = exchange(sock, req, wire, self.max_body_bytes)
    if res then
      if keep_or_err then
        sock:setkeepalive(self.keepalive_ms, self.pool_size)
      else
        sock:close()
      end
      return res
    end
    sock:close()
    if not (reused and nothing_back and attempt == 1 and keep_or_err ~= "timeout") then
      return fail(classify(keep_or_err, stage), format("%s %s:%d failed: %s", stage, host, port,
        tostring(keep_or_err)))
    end
  end
end

return _M
