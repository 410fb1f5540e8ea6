-- invite.util: percent-encoding, the URL parser, the loopback test and the error type, which the
-- library and the simulator share.
local util = require "invite.util"

describe("invite.util.percent_encode", function()
  it("leaves RFC 3986 unreserved characters and encodes every other byte as upper-case %XX", function()
    assert.are.equal("AZaz09-._~", util.percent_encode("AZaz09-._~"))
    assert.are.equal("a%20b%2Bc%2Fd%3Fe%3Df%26g%25h", util.percent_encode("a b+c/d?e=f&g%h"))
    assert.are.equal("%C3%A9%00%FF", util.percent_encode("\195\169\0\255"))
    assert.are.equal("", util.percent_encode(""))
    assert.are.equal("42", util.percent_encode(42))
  end)

  it("encodes every byte 0-255 but the 66 unreserved ones, and decoding gives the bytes back", function()
    local all = {}
    for b = 0, 255 do all[#all + 1] = string.char(b) end
    all = table.concat(all)
    local enc = util.percent_encode(all)
    local kept = enc:gsub("%%%x%x", "")
    assert.are.equal(66, #kept)
    assert.are.equal(256 - 66, select(2, enc:gsub("%%%x%x", "")))
    assert.is_nil(enc:find("%%%x?%l"), "hex digits are upper case")
    assert.are.equal(all, (enc:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)))
  end)
end)

describe("invite.util.parse_url", function()
  local function parsed(url)
    local u, why = util.parse_url(url)
    assert.is_not_nil(u, tostring(url) .. ": " .. tostring(why))
    return u
  end

  it("splits scheme, host, port, path, query and fragment, and gives the Host header's authority", function()
    assert.are.same({ scheme = "http", host = "127.0.0.1", port = 4566, port_given = true,
                      authority = "127.0.0.1:4566", origin = "http://127.0.0.1:4566", path = "/base/" },
                    parsed("http://127.0.0.1:4566/base/"))
    assert.are.same({ scheme = "https", host = "guardduty.us-east-1.amazonaws.com", port = 443, port_given = false,
                      authority = "guardduty.us-east-1.amazonaws.com",
                      origin = "https://guardduty.us-east-1.amazonaws.com", path = "/invitation",
                      query = "maxResults=5&nextToken=a%2Fb", fragment = "top" },
                    parsed("HTTPS://GuardDuty.us-east-1.amazonaws.com/invitation?maxResults=5&nextToken=a%2Fb#top"))
  end)

  it("fills the scheme's default port and leaves it out of the authority", function()
    local u = parsed("https://sts.amazonaws.com:443")
    assert.are.same({ 443, true, "sts.amazonaws.com", "" }, { u.port, u.port_given, u.authority, u.path })
    u = parsed("http://localhost")
    assert.are.same({ 80, false, "localhost" }, { u.port, u.port_given, u.authority })
    u = parsed("http://localhost:/x") -- an empty port is the default (RFC 3986 3.2.3)
    assert.are.same({ 80, false, "/x" }, { u.port, u.port_given, u.path })
    u = parsed("http://h:00080")
    assert.are.same({ 80, true, "h" }, { u.port, u.port_given, u.authority })
    u = parsed("file://host/p") -- another scheme: no default port
    assert.are.same({ "file", nil, "host" }, { u.scheme, u.port, u.authority })
  end)

  it("takes an IPv6 literal in brackets: host without them, authority with them", function()
    local u = parsed("http://[::1]:8080/x")
    assert.are.same({ "::1", 8080, "[::1]:8080", "/x" }, { u.host, u.port, u.authority, u.path })
    u = parsed("https://[FD00:EC2::23]/")
    assert.are.same({ "fd00:ec2::23", 443, "[fd00:ec2::23]" }, { u.host, u.port, u.authority })
  end)

  it("keeps an empty query apart from no query", function()
    assert.are.equal("", parsed("http://h/p?").query)
    assert.is_nil(parsed("http://h/p").query)
    assert.are.same({ "", "a=1" }, { parsed("http://h?a=1").path, parsed("http://h?a=1").query })
    assert.are.same({ "/p", "q", "f?g" }, { parsed("http://h/p?q#f?g").path, parsed("http://h/p?q#f?g").query,
                                            parsed("http://h/p?q#f?g").fragment })
  end)

  it("refuses what is not an absolute URL with a host and a valid port, without repeating the URL", function()
    local bad = {
      { 42, "is not a string" },
      { nil, "is not a string" },
      { "", "is not an absolute URL" },
      { "example.com/path", "is not an absolute URL" },
      { "http:/h", "is not an absolute URL" },
      { "://x", "is not an absolute URL" },
      { "http://", "has no host" },
      { "http:///path", "has no host" },
      { "http://user:s3cr3t@h/", "contains user information" },
      { "http://@h/", "contains user information" },
      { "http://h ost/", "contains spaces or control characters" },
      { "http://h/\r\nX: y", "contains spaces or control characters" },
      { "http://h:x/", "has a malformed port" },
      { "http://h:-1/", "has a malformed port" },
      { "http://h:80:81/", "has a malformed port" },
      { "http://h:0/", "has a port outside 1-65535" },
      { "http://h:65536/", "has a port outside 1-65535" },
      { "http://h:99999999999999999999/", "has a port outside 1-65535" },
      { "http://[::1/", "has a malformed host" },
      { "http://[zz]/", "has a malformed host" },
      { "http://h]/", "has a malformed host" },
      { "http://:80/", "has a malformed host" },
    }
    for _, case in ipairs(bad) do
      local u, why = util.parse_url(case[1])
      assert.is_nil(u, tostring(case[1]))
      assert.is_string(why)
      assert.are.equal(1, select(2, why:gsub(case[2]:gsub("%p", "%%%0"), "")), tostring(case[1]) .. ": " .. why)
      assert.is_nil(why:find("s3cr3t", 1, true))
      if type(case[1]) == "string" and case[1] ~= "" then assert.is_nil(why:find(case[1], 1, true)) end
    end
  end)
end)

describe("invite.util.is_loopback", function()
  it("is localhost, 127.0.0.0/8, ::1 in any spelling and 127.x mapped into IPv6", function()
    for _, h in ipairs{ "localhost", "LocalHost", "127.0.0.1", "127.255.0.9", "::1", "[::1]", "0:0:0:0:0:0:0:1",
                        "0000::0001", "::ffff:127.0.0.1", "0:0:0:0:0:ffff:127.1.2.3", "[::FFFF:127.0.0.1]" } do
      assert.is_true(util.is_loopback(h), h)
    end
  end)

  it("is nothing else", function()
    for _, h in ipairs{ "128.0.0.1", "10.0.0.1", "127.0.0.256", "127.1", "0.0.0.0", "::", "::2", "::1:1",
                        "1::1", "::ffff:10.0.0.1", "::fffe:127.0.0.1", "1::ffff:127.0.0.1", "localhost.example.com",
                        "example.com", "1:2:3:4:5:6:7:8:9", "", 127 } do
      assert.is_false(util.is_loopback(h), tostring(h))
    end
    assert.is_false(util.is_loopback(nil))
  end)
end)

describe("invite.util.new_error", function()
  it("makes a table with the project's fields, retryable false unless given, printed on one line", function()
    local e = util.new_error{ code = "ThrottlingException", message = "Rate exceeded\r\nslow down", status = 429,
                              request_id = "r-1", retryable = true, service = "macie2",
                              operation = "ListInvitations", attempts = 3 }
    assert.is_true(util.is_error(e))
    assert.are.equal("macie2 ListInvitations: ThrottlingException (HTTP 429): Rate exceeded slow down "
                     .. "[request-id r-1] after 3 attempts (retryable)", tostring(e))
    local bare = util.new_error()
    assert.is_false(bare.retryable)
    assert.are.equal("Error", tostring(bare))
    local local_err = util.new_error{ code = "InvalidConfiguration", message = "no region" }
    assert.are.equal("InvalidConfiguration: no region", tostring(local_err))
    assert.is_false(local_err.retryable)
    assert.is_false(util.is_error({ code = "X" }))
    assert.is_false(util.is_error("X"))
  end)

  it("prints the same line as invite.errors for the same fields", function()
    local errors = require "invite.errors"
    local fields = { code = "BadRequestException", message = "bad", status = 400, request_id = "abc",
                     service = "guardduty", operation = "DeclineInvitations" }
    local copy = {}
    for k, v in pairs(fields) do copy[k] = v end
    assert.are.equal(tostring(errors.new(fields)), tostring(util.new_error(copy)))
  end)

  it("is invite.errors' type: each module's is_error takes the other's errors", function()
    local errors = require "invite.errors"
    assert.are.equal(util.error_mt, getmetatable(errors.new{ code = "X" }))
    assert.is_true(errors.is_error(util.new_error{ code = "X" }))
    assert.is_true(util.is_error(errors.new{ code = "X" }))
    assert.is_true(util.is_error(errors.client("InvalidParameter", "bad", { service = "macie2" })))
  end)
end)

describe("the simulator's request targets (invite.sim.http.parse_head) through invite.util.parse_url", function()
  local parse_head = require("invite.sim.http").parse_head
  local function head(target) return "GET " .. target .. " HTTP/1.1\r\nHost: 127.0.0.1" end

  it("takes the path and query of an absolute-form target, / when it has no path", function()
    local req = assert(parse_head(head("http://127.0.0.1:4566/invitations?maxResults=5#frag")))
    assert.are.same({ "/invitations", "maxResults=5" }, { req.path, req.query })
    req = assert(parse_head(head("http://127.0.0.1:4566?a=1")))
    assert.are.same({ "/", "a=1" }, { req.path, req.query })
    req = assert(parse_head(head("https://[::1]")))
    assert.are.same({ "/", "" }, { req.path, req.query })
    req = assert(parse_head(head("/origin/form?x=%2F")))
    assert.are.same({ "/origin/form", "x=%2F" }, { req.path, req.query })
  end)

  it("answers 400 to an absolute-form target parse_url refuses", function()
    for _, target in ipairs{ "http://user:pw@127.0.0.1/", "http://127.0.0.1:99999/", "http:///x" } do
      local req, status, message = parse_head(head(target))
      assert.is_nil(req, target)
      assert.are.same({ 400, "malformed absolute-form request target" }, { status, message })
    end
  end)
end)

describe("invite.util.searchpath", function()
  it("finds the file a module name loads from, on every Lua (5.1 has no package.searchpath)", function()
    assert.are.equal("lua/invite/util.lua", util.searchpath("invite.util", "nowhere/?.lua;lua/?.lua"))
    assert.are.equal("lua/invite/init.lua", util.searchpath("invite", "lua/?.lua;lua/?/init.lua"))
    assert.is_nil(util.searchpath("invite.no_such_module", "lua/?.lua;lua/?/init.lua"))
  end)
end)
