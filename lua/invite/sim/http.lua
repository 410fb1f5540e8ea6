-- invite.sim.http: a small HTTP/1.1 server on LuaSocket for the simulator. One process, one
-- socket.select loop, non-blocking sockets, many concurrent keep-alive connections, pipelined
-- requests answered in order. Bodies need Content-Length (chunked requests are refused with 411),
-- bodies over max_body get 413 and headers over max_header get 431. A handler may ask for a
-- response to be held for a while (injected latency) without blocking other connections, or for
-- the connection to be reset or the response truncated (fault injection).
--
-- handler(req) -> res
--   req: method, target, path, query ("" if none), version ("1.1"), headers (list of {name, value}
--        as received), header (lower-case name -> value, repeated headers joined with ","), body,
--        peer (IP address), conn (connection number), received_at (seconds, float)
--   res: status, headers (list of {name, value}), body, delay (seconds), close (boolean),
--        fault (nil | "reset" | "truncate"),
--        stream (instead of body: a function returning the body's next chunk, nil at the end; the
--        server pulls a chunk only when the socket took the last one, so a 1 GiB body costs one
--        chunk of memory), length (the streamed body's size for Content-Length; without it the
--        response has no Content-Length and ends when the connection closes)
--
-- With opts.tls = { cert = PEM file, key = PEM file } every connection is TLS (LuaSec, Debian
-- lua-sec, loaded only then): the handshake runs inside the same select loop, non-blocking.
local socket = require "socket"
local parse_url = require("invite.util").parse_url

local _M = {}

local gettime, select = socket.gettime, socket.select
local pairs, ipairs, pcall, tostring, tonumber, concat, format, floor =
  pairs, ipairs, pcall, tostring, tonumber, table.concat, string.format, math.floor
local find, sub, match, byte, lower = string.find, string.sub, string.match, string.byte, string.lower

local REASONS = {
  [100] = "Continue", [200] = "OK", [204] = "No Content", [400] = "Bad Request", [401] = "Unauthorized",
  [402] = "Payment Required", [403] = "Forbidden", [404] = "Not Found", [405] = "Method Not Allowed",
  [409] = "Conflict", [411] = "Length Required", [413] = "Content Too Large", [429] = "Too Many Requests",
  [431] = "Request Header Fields Too Large", [500] = "Internal Server Error", [501] = "Not Implemented",
  [503] = "Service Unavailable",
}
_M.REASONS = REASONS

local WDAY = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" }
local MON = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" }
local date_cache_sec, date_cache = -1, ""
local function http_date(now)
  local s = floor(now)
  if s ~= date_cache_sec then
    local t = os.date("!*t", s)
    date_cache = format("%s, %02d %s %04d %02d:%02d:%02d GMT", WDAY[floor(s / 86400) % 7 + 1], t.day,
      MON[t.month], t.year, t.hour, t.min, t.sec)
    date_cache_sec = s
  end
  return date_cache
end

-- Parses the request line and header lines. Returns req or nil, status, message.
-- (Plain finds only: pattern-based line splitting costs several times more per request.)
local function parse_head(head)
  local req = { headers = {}, header = {} }
  local headers, header = req.headers, req.header
  local pos, len, nh = 1, #head, 0
  local first = true
  while pos <= len + 1 do
    local e = find(head, "\r\n", pos, true)
    local line = sub(head, pos, (e or len + 1) - 1)
    pos = (e or len + 1) + 2
    if find(line, "\r", 1, true) or find(line, "\n", 1, true) then
      return nil, 400, "bare CR or LF in the request head"
    end
    if first then
      local method, target, major, minor = match(line, "^(%u+) (%S+) HTTP/(%d)%.(%d)$")
      if not method then return nil, 400, "malformed request line" end
      if major ~= "1" then return nil, 400, "only HTTP/1.x is served" end
      req.method, req.target, req.version = method, target, major .. "." .. minor
      first = false
    else
      local b = byte(line, 1)
      if b == 32 or b == 9 then return nil, 400, "obsolete header line folding is not accepted" end
      -- (no "(.-)[ \t]*$": that backtracks quadratically on long values such as Authorization)
      local name, value = match(line, "^([^:]+):[ \t]*(.*)$")
      if not name or find(name, "[^!#$%%&'*+%-%.%^_`|~%w]") then return nil, 400, "malformed header line" end
      b = byte(value, -1)
      if b == 32 or b == 9 then value = match(value, "^(.-)[ \t]+$") end
      nh = nh + 1
      headers[nh] = { name, value }
      local lname = lower(name)
      local prev = header[lname]
      header[lname] = prev and (prev .. "," .. value) or value
    end
    if not e then break end
  end
  if first then return nil, 400, "empty request" end
  local target = req.target
  if find(target, "^https?://") then
    -- absolute-form (RFC 9112 section 3.2.2): the URL's path (default /) and query
    local u = parse_url(target)
    if not u then return nil, 400, "malformed absolute-form request target" end
    req.path, req.query = u.path ~= "" and u.path or "/", u.query or ""
    return req
  end
  local q = find(target, "?", 1, true)
  if q then
    req.path, req.query = sub(target, 1, q - 1), sub(target, q + 1)
  else
    req.path, req.query = target, ""
  end
  return req
end
_M.parse_head = parse_head

-- Serialises a response. keep_alive false adds "Connection: close".
local function build(res, req, keep_alive, now)
  local status = res.status or 200
  local body = res.body or ""
  local length = #body
  if res.stream then
    body, length = "", res.length
    if not length then keep_alive = false end -- the body ends where the connection does
  end
  local out = { "HTTP/1.1 ", tostring(status), " ", REASONS[status] or "Status", "\r\n" }
  for _, h in ipairs(res.headers or {}) do
    out[#out + 1] = h[1]
    out[#out + 1] = ": "
    out[#out + 1] = h[2]
    out[#out + 1] = "\r\n"
  end
  out[#out + 1] = "Date: " .. http_date(now) .. "\r\n"
  if length then out[#out + 1] = format("Content-Length: %d\r\n", length) end
  if not keep_alive then
    out[#out + 1] = "Connection: close\r\n"
  elseif req and req.version == "1.0" then
    out[#out + 1] = "Connection: keep-alive\r\n"
  end
  out[#out + 1] = "\r\n"
  local head = concat(out)
  if req and req.method == "HEAD" then return head, head, "" end
  return head .. body, head, body
end
_M.build = build

local Server = {}
Server.__index = Server

-- Socket errors that only mean "not now" (LuaSec reports wantread/wantwrite where LuaSocket
-- says timeout).
local AGAIN = { timeout = true, wantread = true, wantwrite = true }

-- A LuaSec server context from PEM files; nil, message when LuaSec or the files are missing.
local function tls_context(tls)
  if type(tls) ~= "table" or type(tls.cert) ~= "string" or type(tls.key) ~= "string" then
    return nil, "tls needs cert and key (PEM file paths)"
  end
  for _, f in ipairs{ { "certificate", tls.cert }, { "key", tls.key } } do
    local fh, ferr = io.open(f[2], "rb")
    if not fh then return nil, "cannot load TLS " .. f[1] .. ": " .. tostring(ferr) end
    fh:close()
  end
  local ok, ssl = pcall(require, "ssl")
  if not ok then return nil, "TLS needs LuaSec (Debian package lua-sec): " .. tostring(ssl) end
  local ctx, err = ssl.newcontext{
    mode = "server", protocol = "any", certificate = tls.cert, key = tls.key,
    options = { "all", "no_sslv2", "no_sslv3", "no_tlsv1", "no_tlsv1_1" },
  }
  if not ctx then
    return nil, "cannot load TLS certificate " .. tls.cert .. " / key " .. tls.key .. ": " .. tostring(err)
  end
  return { ssl = ssl, ctx = ctx }
end

-- opts: host (default 127.0.0.1), port (0 = any free port), handler (required), on_reject(info)
-- called for requests refused before reaching the handler ({peer, conn, status, message, method,
-- path}), on_error(message) for handler errors, on_tick(now) called about once a second,
-- watch (list of extra select()able objects { getfd = function, on_ready = function }: on_ready
-- is called when select() reports the descriptor readable), max_body (1 MiB), max_header (16 KiB),
-- idle_timeout (60 s), max_conns (900; select() cannot watch more than FD_SETSIZE sockets),
-- tls ({cert, key}: serve HTTPS), on_tls_error(info) for failed handshakes ({peer, conn, message}).
function _M.new(opts)
  if type(opts) ~= "table" or type(opts.handler) ~= "function" then
    error("http.new: opts.handler must be a function", 2)
  end
  local tls
  if opts.tls ~= nil then
    local terr
    tls, terr = tls_context(opts.tls)
    if not tls then return nil, terr end
  end
  local host = opts.host or "127.0.0.1"
  local sock, err = socket.bind(host, opts.port or 0, 128)
  if not sock then return nil, "cannot listen on " .. host .. ":" .. tostring(opts.port or 0) .. ": " .. err end
  sock:settimeout(0)
  local _, port = sock:getsockname()
  local self = setmetatable({
    sock = sock, host = host, port = tonumber(port), handler = opts.handler, on_reject = opts.on_reject,
    on_tick = opts.on_tick, watch = opts.watch, tls = tls, on_tls_error = opts.on_tls_error,
    on_error = opts.on_error or function(msg)
      -- one short line whatever the error holds (no terminal control characters, no megabytes)
      io.stderr:write("invite sim: ", (tostring(msg):sub(1, 1000):gsub("[%c\127]", function(ch)
        return format("\\x%02x", byte(ch))
      end)), "\n")
    end,
    max_body = opts.max_body or 1048576, max_header = opts.max_header or 16384,
    idle_timeout = opts.idle_timeout or 60, max_conns = opts.max_conns or 900,
    conns = {}, nconns = 0, next_id = 0, last_sweep = gettime(), stopping = false,
  }, Server)
  return self
end

-- Drives a TLS handshake one step; a failed one closes the connection.
function Server:handshake(c, now)
  local ok, err = c.sock:dohandshake()
  c.last = now
  if ok then
    c.handshaking = nil
    -- the client's first request may already sit decrypted in LuaSec's buffer
    self:read(c, now)
  elseif AGAIN[err] then
    c.handshaking = err
  else
    if self.on_tls_error then pcall(self.on_tls_error, { peer = c.peer, conn = c.id, message = tostring(err) }) end
    self:close_conn(c)
  end
end

function Server:close_conn(c, reset)
  if c.closed then return end
  c.closed = true
  if reset then
    if self.tls then
      -- a LuaSec connection has no setoption, and its close() sends a TLS close_notify first
      -- (a clean end, not a reset): a LuaSocket object borrows the descriptor, sets SO_LINGER
      -- to 0 and closes it (RST). LuaSec's own close below then finds the descriptor gone.
      pcall(function()
        local raw = socket.tcp()
        raw:close()
        raw:setfd(c.sock:getfd())
        raw:setoption("linger", { on = true, timeout = 0 })
        raw:close()
      end)
    else
      pcall(c.sock.setoption, c.sock, "linger", { on = true, timeout = 0 })
    end
  end
  c.sock:close()
  self.conns[c.sock] = nil
  self.nconns = self.nconns - 1
end

function Server:accept()
  while self.nconns < self.max_conns do
    local s = self.sock:accept()
    if not s then return end
    s:settimeout(0)
    pcall(s.setoption, s, "tcp-nodelay", true)
    self.next_id = self.next_id + 1
    local peer = s:getpeername()
    local handshaking
    if self.tls then
      local w, werr = self.tls.ssl.wrap(s, self.tls.ctx)
      if not w then
        s:close()
        if self.on_tls_error then pcall(self.on_tls_error, { peer = peer, conn = self.next_id, message = werr }) end
        return
      end
      s = w
      s:settimeout(0)
      handshaking = "wantread"
    end
    local c = { sock = s, id = self.next_id, peer = peer, inbuf = "", out = nil, out_pos = 1,
                last = gettime(), handshaking = handshaking }
    self.conns[s] = c
    self.nconns = self.nconns + 1
  end
end

-- Sends as much of the pending output as the socket takes now, pulling the chunks of a streamed
-- body one at a time. When a stream ends on a kept-alive connection, pipelined requests go on.
function Server:flush(c)
  while not c.closed and (c.out or c.stream) do
    if not c.out then
      local ok, chunk = pcall(c.stream)
      if not ok then
        self.on_error("response stream error: " .. tostring(chunk):sub(1, 500))
        return self:close_conn(c)
      end
      if chunk == nil then
        c.stream = nil
        if c.close_after then return self:close_conn(c) end
        return self:process(c)
      end
      c.out, c.out_pos = chunk, 1
    end
    local last, err, partial = c.sock:send(c.out, c.out_pos)
    last = last or partial
    if last then c.out_pos = last + 1 end
    if c.out_pos > #c.out then
      c.out, c.out_pos = nil, 1
      if c.close_after and not c.stream then self:close_conn(c) end
    elseif err and not AGAIN[err] then
      return self:close_conn(c)
    else
      return -- the socket is full: select() says when it takes more
    end
  end
end

function Server.queue(_, c, bytes)
  if c.out then
    c.out = c.out:sub(c.out_pos) .. bytes
  else
    c.out = bytes
  end
  c.out_pos = 1
end

-- Refuses a request that cannot be parsed; the connection closes after the answer.
function Server:reject(c, status, message, req)
  if self.on_reject then
    pcall(self.on_reject, { peer = c.peer, conn = c.id, status = status, message = message,
                            method = req and req.method, path = req and req.path })
  end
  local body = '{"message":"' .. message:gsub('["\\]', "") .. '"}'
  local bytes = build({ status = status, body = body, headers = { { "Content-Type", "application/json" } } },
    req, false, gettime())
  c.inbuf, c.req, c.reading_stopped = "", nil, true
  c.close_after = true
  self:queue(c, bytes)
  self:flush(c)
end

local function wants_keep_alive(req)
  local conn = (req.header.connection or ""):lower()
  if req.version == "1.0" then return conn:find("keep%-alive") ~= nil end
  return not conn:find("close")
end

function Server:emit(c, req, res, now)
  local keep = wants_keep_alive(req) and not res.close and not self.stopping
  if res.fault == "reset" then
    self:close_conn(c, true)
    return
  end
  if res.stream then
    if not res.length then keep = false end
    local head = build(res, req, keep, now)
    if not keep then c.close_after, c.reading_stopped = true, true end
    self:queue(c, head)
    if req.method ~= "HEAD" then c.stream = res.stream end
    self:flush(c)
    return
  end
  local bytes, head, body = build(res, req, keep, now)
  if res.fault == "truncate" then
    bytes = head .. body:sub(1, floor(#body / 2))
    keep = false
  end
  if not keep then
    c.close_after, c.reading_stopped = true, true
  end
  self:queue(c, bytes)
  self:flush(c)
end

function Server:dispatch(c, req)
  local now = gettime()
  req.peer, req.conn, req.received_at = c.peer, c.id, now
  local ok, res = pcall(self.handler, req)
  if not ok then
    if tostring(res):find("interrupted!$") then error(res, 0) end -- SIGINT from lua.c: let it through
    self.on_error("handler error: " .. tostring(res))
    res = { status = 500, headers = { { "Content-Type", "application/json" } },
            body = '{"message":"internal error in the simulator"}' }
  end
  if res.delay and res.delay > 0 then
    c.held, c.held_req, c.held_until = res, req, now + res.delay
    return
  end
  self:emit(c, req, res, now)
end

-- Parses and dispatches every complete request in the input buffer, in order.
function Server:process(c)
  while not c.held and not c.stream and not c.closed and not c.reading_stopped do
    if not c.req then
      local buf = c.inbuf
      local skip = buf:match("^[\r\n]+")
      if skip then buf = buf:sub(#skip + 1); c.inbuf = buf end
      local hend = buf:find("\r\n\r\n", 1, true)
      if not hend then
        if #buf > self.max_header then return self:reject(c, 431, "request head too large") end
        return
      end
      if hend > self.max_header then return self:reject(c, 431, "request head too large") end
      local req, status, msg = parse_head(buf:sub(1, hend - 1))
      c.inbuf = buf:sub(hend + 4)
      if not req then return self:reject(c, status, msg) end
      if req.header["transfer-encoding"] then
        return self:reject(c, 411, "Transfer-Encoding (chunked) is not supported: send Content-Length", req)
      end
      local cl = req.header["content-length"]
      local len = 0
      if cl then
        local first_value = cl:match("^%s*(%d+)%s*$")
        if not first_value then
          -- repeated Content-Length headers are acceptable only when they agree
          for v in cl:gmatch("[^,]+") do
            local d = v:match("^%s*(%d+)%s*$")
            if not d or (first_value and d ~= first_value) then
              return self:reject(c, 400, "invalid Content-Length", req)
            end
            first_value = d
          end
        end
        if #first_value > 12 then return self:reject(c, 413, "request body too large", req) end
        len = tonumber(first_value)
      end
      if len > self.max_body then return self:reject(c, 413, "request body too large", req) end
      req.length = len
      c.req = req
      if len > #c.inbuf and (req.header.expect or ""):lower() == "100-continue" then
        self:queue(c, "HTTP/1.1 100 Continue\r\n\r\n")
        self:flush(c)
      end
    end
    local req = c.req
    if #c.inbuf < req.length then return end
    req.body = c.inbuf:sub(1, req.length)
    c.inbuf = c.inbuf:sub(req.length + 1)
    c.req = nil
    self:dispatch(c, req)
  end
end

function Server:read(c, now)
  local data, err, partial = c.sock:receive(65536)
  data = data or partial
  if data and #data > 0 then
    c.last = now
    if c.reading_stopped then
      c.inbuf = ""
    else
      c.inbuf = c.inbuf .. data
      self:process(c)
    end
  end
  if err == "closed" and not c.closed then
    -- the peer closed its side: answer what is already queued, then close
    if c.out or c.held or c.stream then
      c.close_after, c.reading_stopped = true, true
    else
      self:close_conn(c)
    end
  elseif err and not AGAIN[err] and not c.closed then
    self:close_conn(c) -- a broken connection (or TLS record error): nothing more can be read
  end
end

-- One turn of the loop: waits up to `wait` seconds (less if a held response is due).
function Server:step(wait)
  wait = wait or 1
  local now = gettime()
  local recvt, sendt = { self.sock }, {}
  for _, w in ipairs(self.watch or {}) do recvt[#recvt + 1] = w end
  for sock, c in pairs(self.conns) do
    if c.held then
      if c.held_until <= now then
        local res, req = c.held, c.held_req
        c.held, c.held_req = nil, nil
        self:emit(c, req, res, now)
        if not c.closed then self:process(c) end
      else
        local d = c.held_until - now
        if d < wait then wait = d end
      end
    end
    if c.handshaking then
      if c.handshaking == "wantwrite" then sendt[#sendt + 1] = sock else recvt[#recvt + 1] = sock end
    elseif not c.closed then
      if c.out or c.stream then sendt[#sendt + 1] = sock end
      if not c.held and not c.reading_stopped and (not c.out or #c.out < 1048576) then
        recvt[#recvt + 1] = sock
      elseif c.reading_stopped and not c.out and not c.held and not c.stream then
        self:close_conn(c)
      end
    end
  end
  if wait < 0 then wait = 0 end
  local readable, writable = select(recvt, sendt, wait)
  now = gettime()
  for _, sock in ipairs(writable or {}) do
    local c = self.conns[sock]
    if c and c.handshaking then
      self:handshake(c, now)
    elseif c then
      self:flush(c)
    end
  end
  for _, sock in ipairs(readable or {}) do
    if sock == self.sock then
      self:accept()
    elseif sock.on_ready then
      sock:on_ready()
    else
      local c = self.conns[sock]
      if c and not c.closed then
        if c.handshaking then self:handshake(c, now) else self:read(c, now) end
      end
    end
  end
  if now - self.last_sweep >= 1 then
    self.last_sweep = now
    if self.on_tick then self.on_tick(now) end
    for _, c in pairs(self.conns) do
      if not c.out and not c.held and not c.stream and now - c.last > self.idle_timeout then self:close_conn(c) end
    end
  end
end

-- Serves until stop() is called (from a handler) or an error (such as SIGINT's) escapes.
function Server:run()
  while not self.stopping do self:step(1) end
  self:close()
end

function Server:stop()
  self.stopping = true
end

function Server:close()
  for _, c in pairs(self.conns) do
    if c.out and not c.stream then pcall(c.sock.settimeout, c.sock, 1); self:flush(c) end
    self:close_conn(c)
  end
  if self.sock then self.sock:close(); self.sock = nil end
end

return _M
