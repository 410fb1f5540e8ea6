-- fuzz/seed.lua - writes the seed inputs of the fuzz harnesses from the AWS
-- SigV4 test suite in spec/fixtures/sigv4 (plus a few hand-written HTTP
-- response header blocks), in each harness's input format (see the comment
-- at the top of fuzz/fuzz_<target>.c).
--   lua5.4 fuzz/seed.lua OUTDIR      -- writes OUTDIR/<target>/<name>
local cjson = require "cjson"

local out = assert(arg[1], "usage: lua5.4 fuzz/seed.lua OUTDIR")
local suite = "spec/fixtures/sigv4"
local SEP = "\255"

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function write(target, name, data)
  os.execute("mkdir -p '" .. out .. "/" .. target .. "'")
  local f = assert(io.open(out .. "/" .. target .. "/" .. name, "wb"))
  f:write(data)
  f:close()
end

-- request.txt: request line, headers (a line starting with whitespace
-- continues the previous value as a fold), blank line, body
local function parse_request(text)
  local lines = {}
  local pos = 1
  while true do
    local nl = text:find("\n", pos, true)
    if not nl then lines[#lines + 1] = text:sub(pos); break end
    lines[#lines + 1] = text:sub(pos, nl - 1)
    pos = nl + 1
  end
  local method, target = lines[1]:match("^(%S+) (.*) HTTP/1%.1$")
  local path, query = target:match("^([^?]*)%??(.*)$")
  local headers, i = {}, 2
  while i <= #lines and lines[i] ~= "" do
    local l = lines[i]
    if l:match("^[ \t]") and #headers > 0 then
      headers[#headers][2] = headers[#headers][2] .. "\n" .. l
    else
      local n, v = l:match("^([^:]*):(.*)$")
      headers[#headers + 1] = { n, v }
    end
    i = i + 1
  end
  local body = table.concat(lines, "\n", i + 1)
  return { method = method, path = path, query = query, headers = headers, body = body }
end

local function le(n, bytes)
  local t = {}
  for k = 1, bytes do t[k] = string.char(n % 256); n = n // 256 end
  return table.concat(t)
end

local function epoch(ts) -- "2015-08-30T12:36:00Z"
  local y, mo, d, h, mi, s = ts:match("^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)Z$")
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo <= 2 then y = y - 1 end
  local era = y // 400
  local yoe = y - era * 400
  local doy = (153 * (mo + (mo > 2 and -3 or 9)) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s)
end

local p = io.popen("ls " .. suite)
local names = {}
for name in p:lines() do
  if read(suite .. "/" .. name .. "/request.txt") then names[#names + 1] = name end
end
p:close()

for _, name in ipairs(names) do
  local req = parse_request(read(suite .. "/" .. name .. "/request.txt"))
  local ctx = cjson.decode(read(suite .. "/" .. name .. "/context.json"))
  local cred = ctx.credentials
  local norm = ctx.normalize and 1 or 0
  local tok = cred.token and 2 or 0
  local hdrs = {}
  for k, h in ipairs(req.headers) do hdrs[k] = h[1] .. ":" .. h[2] end
  local hblock = table.concat(hdrs, SEP)

  write("uri", name, string.char(norm) .. req.path)
  write("query", name, string.char(tok, 0) .. req.query)
  write("query", name .. "-presign", string.char(1 + tok, 0) .. req.query)
  write("headers", name, string.char(tok + (ctx.sign_body and 8 or 0), 0) .. hblock)
  write("headers", name .. "-presign", string.char(16 + tok, 0) .. hblock)
  for _, presign in ipairs { 0, 1 } do
    local flags = norm + presign * 2 + (ctx.sign_body and 8 or 0)
    local ctl = string.char(flags) .. le(epoch(ctx.timestamp) + 16, 5)
      .. le(ctx.expiration_in_seconds + 1, 3) .. "\0\0" .. string.rep("\0", 5)
    local fields = { req.method, req.path, req.query, req.body, cred.access_key_id,
      cred.secret_access_key, cred.token or "", ctx.region, ctx.service, "", "", "" }
    for _, h in ipairs(hdrs) do fields[#fields + 1] = h end
    write("sign", name .. (presign == 1 and "-presign" or ""), ctl .. table.concat(fields, SEP))
  end
end

-- stretched inputs (control bytes 12-14, see fuzz_sign.c): past the path,
-- query, token, header value and total header limits
do
  local cases = { { "path", 0, 110 }, { "query", 1, 110 }, { "token", 2, 110 }, { "value", 3, 110 },
    { "path-ok", 0, 100 }, { "query-params", 1, 200 }, { "token-ok", 2, 100 }, { "value-limit", 3, 220 }, { "values-limit", 4, 218 } }
  for _, c in ipairs(cases) do
    local what = c[1]
    local ctl = string.char(1) .. le(1440938160 + 16, 5) .. le(3601, 3) .. "\0\0\0"
      .. string.char(c[3], c[2], 0xa5, 0)
    local fields = { "GET", "/a%20b/", "x=%41&y=~", "", "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      "AQoDYXdzEPT//////////wEXAMPLE", "us-east-1", "service", "", "", "",
      "Host:example.amazonaws.com", "X-A:a  b", "X-B:c\td", "X-C:e", "X-D:f" }
    write("sign", "stretch-" .. what, ctl .. table.concat(fields, SEP))
  end
end

-- HTTP response header blocks as libcurl hands them over, one line per call
local responses = {
  ["ok"] = "HTTP/1.1 200 OK\r\nDate: Sun, 30 Aug 2015 12:36:00 GMT\r\nContent-Type: application/json\r\n"
    .. "Content-Length: 2\r\nx-amzn-RequestId: 0d6c9a7e-1b2c-4d5e-8f90-a1b2c3d4e5f6\r\n\r\n",
  ["error"] = "HTTP/1.1 400 Bad Request\r\nx-amzn-ErrorType: ValidationException:http://internal.amazon.com/\r\n"
    .. "X-Amzn-RequestId: 11111111-2222-3333-4444-555555555555\r\nContent-Type: application/json\r\n\r\n",
  ["continue"] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 429 Too Many Requests\r\nRetry-After : 1\r\n"
    .. "Connection: keep-alive\r\n\r\n",
  ["folded"] = "HTTP/1.1 200 OK\r\nX-Folded: first\r\n   second\r\n\tthird  \r\nEmpty:\r\nNoColon\r\n\r\n",
  ["proxy"] = "HTTP/1.1 200 Connection established\r\nProxy-Agent: test\r\n\r\nHTTP/1.1 503 Service Unavailable\r\n"
    .. "X-Amzn-ErrorType: ServiceUnavailableException\r\n\r\n",
}
for name, block in pairs(responses) do write("http_header", name, "\0" .. block) end
write("http_header", "limit", "\255X-Big: " .. string.rep("v", 200) .. "\r\n")
