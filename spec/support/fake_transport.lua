-- support.fake_transport: canned service answers for a CLI run, with nothing on the wire.
--
--   INVITE_FAKE_ANSWERS=/path/answers.json lua5.4 -l support.fake_transport bin/invite list ...
--
-- Loaded before bin/invite (LUA_PATH must reach spec/ and lua/), it registers a "curl" transport
-- kind in place of the real one. answers.json maps a service name to { status =, body = }; the
-- service of a request is read from its SigV4 credential scope (.../<region>/<service>/aws4_request),
-- so one --endpoint-url can serve several services. A request for a service with no answer gets a
-- 599, and every request is appended to INVITE_FAKE_LOG (one "METHOD URL SERVICE" line) when set.
-- This lets a spec hand the CLI answers that no real service, and no simulator fixture, would give
-- (control characters in an invitation's fields, say).
local cjson = require "cjson"
local transport = require "invite.transport"

local function read(path)
  local f = assert(io.open(path, "rb"), "INVITE_FAKE_ANSWERS: cannot open " .. tostring(path))
  local t = f:read("*a")
  f:close()
  return t
end

local answers = cjson.decode(read(assert(os.getenv("INVITE_FAKE_ANSWERS"), "INVITE_FAKE_ANSWERS is not set")))
local log = os.getenv("INVITE_FAKE_LOG")

local function service_of(req)
  for _, h in ipairs(req.headers or {}) do
    if h[1]:lower() == "authorization" then
      return h[2]:match("Credential=[^/]+/%d+/[^/]+/([^/]+)/aws4_request")
    end
  end
  return nil
end

transport.register("curl", function()
  return {
    kind = "fake",
    request = function(_, req)
      local service = service_of(req)
      if log then
        local f = assert(io.open(log, "ab"))
        f:write(("%s %s %s\n"):format(req.method, req.url, tostring(service)))
        f:close()
      end
      local a = service and answers[service]
      if not a then return { status = 599, headers = {}, body = "" } end
      return { status = math.floor(a.status or 200), headers = { { "content-type", "application/json" },
               { "x-amzn-requestid", "fake-" .. service } }, body = a.body }
    end,
  }
end)

return true
