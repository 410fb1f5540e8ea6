-- The request pipeline with a scripted in-process transport (no network): what goes on the
-- wire for each service, how answers come back in boto3's names, batching, pagination,
-- dry-run, error parsing in every style, and standard-mode retries with an injected
-- clock, sleep and random source.
local cjson = require "cjson"
local invite = require "invite"
local errors = require "invite.errors"
local retry = require "invite.retry"

local SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzzSECRETzz"
local TOKEN = "FwoGZXIvYXdzEXAMPLEzzTOKENzz"
local CREDS = { access_key_id = "AKIDEXAMPLE", secret_access_key = SECRET, session_token = TOKEN }

local function header(headers, name)
  for _, h in ipairs(headers) do
    if h[1]:lower() == name:lower() then return h[2] end
  end
end

-- A transport that records each request and answers from a script: a list of
-- responses/errors (the last one repeats), or a function(req, n).
local function scripted(script)
  local t = { kind = "scripted", sent = {} }
  function t.request(_, req)
    t.sent[#t.sent + 1] = req
    local n = #t.sent
    local step = type(script) == "function" and script(req, n) or script[math.min(n, #script)]
    if step.err then return nil, step.err end
    local hdrs = step.headers or { { "x-amzn-requestid", "req-" .. n } }
    return { status = step.status or 200, headers = hdrs, body = step.body or "{}" }
  end
  return t
end

local function client(service, script, opts)
  local t = scripted(script or { { body = "{}" } })
  local o = {
    region = "us-east-1", endpoint = "http://127.0.0.1:1", credentials = CREDS, transport = t,
    sleep = function(s) t.slept = t.slept or {}; t.slept[#t.slept + 1] = s end,
    random = function() return 0.5 end,
    clock = function() return 1440938160 end,
  }
  for k, v in pairs(opts or {}) do o[k] = v end
  return invite[service].client(o), t
end

local function ids(n, from)
  local out = {}
  for i = 1, n do out[i] = string.format("%012d", (from or 100000000000) + i) end
  return out
end

describe("request building", function()
  it("guardduty decline: POST /invitation/decline, camelCase wire JSON, signed", function()
    local c, t = client("guardduty", { { body = '{"unprocessedAccounts":[]}' } })
    local res = assert(c:decline_invitations{ AccountIds = { "111122223333" } })
    local req = t.sent[1]
    assert.are.equal("POST", req.method)
    assert.are.equal("http://127.0.0.1:1/invitation/decline", req.url)
    assert.are.equal('{"accountIds":["111122223333"]}', req.body)
    assert.are.equal("application/json", header(req.headers, "content-type"))
    assert.are.equal("127.0.0.1:1", header(req.headers, "host"))
    assert.matches("^AWS4%-HMAC%-SHA256 Credential=AKIDEXAMPLE/20150830/us%-east%-1/guardduty/aws4_request",
      header(req.headers, "authorization"))
    assert.are.equal("20150830T123600Z", header(req.headers, "x-amz-date"))
    assert.are.equal(TOKEN, header(req.headers, "x-amz-security-token"))
    assert.are.same({}, res.UnprocessedAccounts)
  end)

  it("securityhub decline: PascalCase on the wire too", function()
    local c, t = client("securityhub")
    assert(c:decline_invitations{ AccountIds = { "111122223333", "444455556666" } })
    assert.are.equal("http://127.0.0.1:1/invitations/decline", t.sent[1].url)
    assert.are.equal('{"AccountIds":["111122223333","444455556666"]}', t.sent[1].body)
  end)

  it("macie2 list: GET with camelCase query, no body, no Content-Type", function()
    local c, t = client("macie2")
    assert(c:list_invitations{ maxResults = 25, nextToken = "a b/c+=" })
    local req = t.sent[1]
    assert.are.equal("GET", req.method)
    assert.are.equal("http://127.0.0.1:1/invitations?maxResults=25&nextToken=a%20b%2Fc%2B%3D", req.url)
    assert.are.equal("", req.body)
    assert.is_nil(header(req.headers, "content-type"))
  end)

  it("guardduty: URI labels are percent-encoded and body members stay in the body", function()
    local c, t = client("guardduty")
    assert(c:accept_administrator_invitation{ DetectorId = "12ab/../x y", AdministratorId = "111122223333",
      InvitationId = "inv-1" })
    local req = t.sent[1]
    assert.are.equal("http://127.0.0.1:1/detector/12ab%2F..%2Fx%20y/administrator", req.url)
    assert.are.same({ administratorId = "111122223333", invitationId = "inv-1" }, cjson.decode(req.body))
  end)

  it("POST without body members sends an empty body (as botocore)", function()
    local c, t = client("securityhub")
    assert(c:disassociate_from_administrator_account{})
    assert.are.equal("", t.sent[1].body)
    assert.are.equal("POST", t.sent[1].method)
    local g, gt = client("guardduty")
    assert(g:disassociate_from_master_account{ DetectorId = "d1" })
    assert.are.equal("http://127.0.0.1:1/detector/d1/master/disassociate", gt.sent[1].url)
    assert.are.equal("", gt.sent[1].body)
  end)

  it("an endpoint with a base path keeps it", function()
    local c, t = client("macie2", nil, { endpoint = "http://127.0.0.1:1/prefix/" })
    assert(c:get_invitations_count{})
    assert.are.equal("http://127.0.0.1:1/prefix/invitations/count", t.sent[1].url)
  end)

  it("module-level calls use a default client configured once", function()
    local t = scripted({ { body = '{"InvitationsCount":7}' } })
    invite.securityhub.configure{ region = "eu-west-1", endpoint = "http://127.0.0.1:1", credentials = CREDS,
      transport = t }
    local res = assert(invite.securityhub.get_invitations_count{})
    assert.are.equal(7, res.InvitationsCount)
    local res2 = assert(invite.securityhub:get_invitations_count{}) -- colon form works too
    assert.are.equal(7, res2.InvitationsCount)
    assert.matches("/eu%-west%-1/securityhub/", header(t.sent[1].headers, "authorization"))
    invite.securityhub.configure{}
  end)
end)

describe("responses", function()
  it("guardduty: camelCase wire -> boto3 PascalCase, nested lists, ResponseMetadata", function()
    local body = cjson.encode{
      invitations = { { accountId = "111122223333", invitationId = "i-1", relationshipStatus = "Invited",
        invitedAt = "2024-01-02T03:04:05.000Z", somethingNew = 1 } },
      nextToken = "tok",
    }
    local c = client("guardduty", { { body = body, headers = { { "x-amzn-requestid", "rid-42" } } } })
    local res = assert(c:list_invitations{})
    assert.are.same({ { AccountId = "111122223333", InvitationId = "i-1", RelationshipStatus = "Invited",
      InvitedAt = "2024-01-02T03:04:05.000Z" } }, res.Invitations)
    assert.are.equal("tok", res.NextToken)
    assert.are.equal("rid-42", res.ResponseMetadata.RequestId)
    assert.are.equal(200, res.ResponseMetadata.HTTPStatusCode)
    assert.are.equal(0, res.ResponseMetadata.RetryAttempts)
  end)

  it("counts are integers; nulls are absent; epoch timestamps become ISO-8601", function()
    local c = client("macie2", { { body = '{"invitationsCount":3}' } })
    local res = assert(c:get_invitations_count{})
    assert.are.equal(3, res.invitationsCount)
    if math.type then assert.are.equal("integer", math.type(res.invitationsCount)) end
    local s = client("securityhub", { { body = '{"Administrator":{"AccountId":"111122223333","InvitationId":null,'
      .. '"InvitedAt":1700000000}}' } })
    local a = assert(s:get_administrator_account{})
    assert.are.same({ AccountId = "111122223333", InvitedAt = "2023-11-14T22:13:20Z" }, a.Administrator)
  end)

  it("guardduty unprocessed accounts: accountId/result -> AccountId/Result", function()
    local c = client("guardduty", { { body = '{"unprocessedAccounts":[{"accountId":"111122223333",'
      .. '"result":"InvitationNotFound"}]}' } })
    local res = assert(c:delete_invitations{ AccountIds = { "111122223333" } })
    assert.are.same({ { AccountId = "111122223333", Result = "InvitationNotFound" } }, res.UnprocessedAccounts)
  end)
end)

describe("batching", function()
  it("splits 120 IDs (with duplicates) into calls of 50 and merges the answers", function()
    local list = ids(120)
    list[#list + 1] = list[1]
    list[#list + 1] = list[77]
    local c, t = client("macie2", function(req, n)
      local sent = cjson.decode(req.body).accountIds
      return { body = cjson.encode{ unprocessedAccounts = { { accountId = sent[1], errorCode = "ClientError",
        errorMessage = "batch " .. n } } } }
    end)
    local res = assert(c:decline_invitations{ accountIds = list })
    assert.are.equal(3, #t.sent)
    local all, seen = {}, {}
    for i, req in ipairs(t.sent) do
      local sent = cjson.decode(req.body).accountIds
      assert.is_true(#sent <= 50)
      assert.are.equal(i < 3 and 50 or 20, #sent)
      for _, id in ipairs(sent) do
        assert.is_nil(seen[id], "sent twice: " .. id)
        seen[id] = true
        all[#all + 1] = id
      end
    end
    assert.are.same(ids(120), all)
    assert.are.equal(3, #res.unprocessedAccounts)
    assert.are.equal("batch 3", res.unprocessedAccounts[3].errorMessage)
    assert.are.equal(3, res.ResponseMetadata.Batches)
    assert.are.same({ "req-1", "req-2", "req-3" }, res.ResponseMetadata.RequestIds)
  end)

  it("a failing batch returns the error with what was done and what was not", function()
    local c = client("guardduty", function(_, n)
      if n == 2 then return { status = 400, headers = { { "x-amzn-errortype", "BadRequestException" } },
        body = '{"message":"nope"}' } end
      return { body = '{"unprocessedAccounts":[]}' }
    end)
    local res, err = c:decline_invitations{ AccountIds = ids(130) }
    assert.is_nil(res)
    assert.are.equal("BadRequestException", err.code)
    assert.are.equal(2, err.batch)
    assert.are.equal(3, err.batches)
    assert.are.equal(80, #err.not_processed)
    assert.is_table(err.partial)
  end)
end)

describe("pagination", function()
  local function pager(pages)
    return function(req)
      local token = req.url:match("nextToken=([^&]+)")
      local i = token and tonumber(token:match("%d+")) or 1
      local page = { invitations = {} }
      for _, id in ipairs(pages[i]) do page.invitations[#page.invitations + 1] = { accountId = id } end
      if pages[i + 1] then page.nextToken = "p" .. (i + 1) end
      return { body = cjson.encode(page) }
    end
  end

  it("iterates pages, items and all items across 3 pages", function()
    local c, t = client("guardduty", pager{ { "111111111111", "222222222222" }, { "333333333333" },
      { "444444444444" } })
    local n = 0
    for page, err in c:paginate("list_invitations", { MaxResults = 2 }) do
      assert.is_truthy(page, tostring(err))
      n = n + 1
    end
    assert.are.equal(3, n)
    assert.matches("maxResults=2", t.sent[1].url)
    assert.matches("nextToken=p2", t.sent[2].url)
    local seen = {}
    for inv in c:each_invitation{} do seen[#seen + 1] = inv.AccountId end
    assert.are.same({ "111111111111", "222222222222", "333333333333", "444444444444" }, seen)
    local all = assert(c:list_all_invitations{})
    assert.are.equal(4, #all)
    local pages = 0
    for _ in c:get_paginator("list_invitations"):paginate{ PaginationConfig = { MaxItems = 3 } } do
      pages = pages + 1
    end
    assert.are.equal(2, pages)
  end)

  it("stops with an error on a repeated token and surfaces call errors", function()
    local c = client("macie2", { { body = '{"invitations":[],"nextToken":"same"}' } })
    local all, err = c:list_all_invitations{}
    assert.is_nil(all)
    assert.are.equal("PaginationError", err.code)
    local bad = client("macie2", { { status = 403, body = '{"message":"denied"}',
      headers = { { "x-amzn-errortype", "AccessDeniedException:http://internal" } } } })
    local got
    for inv, e in bad:each_invitation{} do got = { inv, e } end
    assert.is_false(got[1])
    assert.are.equal("AccessDeniedException", got[2].code)
  end)

  -- issue 14 item 3: a server that answers a fresh token forever, or pages past the model's bound
  local function endless(items_per_page)
    return function(req)
      local n = tonumber((req.url:match("nextToken=t(%d+)"))) or 0
      local page = { invitations = {}, nextToken = "t" .. (n + 1) }
      for i = 1, items_per_page do
        page.invitations[i] = { accountId = string.format("%012d", n * items_per_page + i) }
      end
      return { body = cjson.encode(page) }
    end
  end

  it("stops an endless run of fresh tokens at max_pages (default 1000) with a PaginationError", function()
    local c, t = client("guardduty", endless(0))
    local all, err = c:list_all_invitations{}
    assert.is_nil(all)
    assert.are.equal("PaginationError", err.code)
    assert.are.equal(1000, #t.sent)
    assert.matches("more than 1000 pages (max_pages)", err.message, 1, true)
    assert.matches("max_pages", err.message, 1, true)
    assert.is_false(err.retryable)
    local c2, t2 = client("guardduty", endless(0), { max_pages = 7 })
    local pages, last = 0, nil
    for page, e in c2:paginate("list_invitations", {}) do
      if page then pages = pages + 1 else last = e end
    end
    assert.are.equal(7, pages)
    assert.are.equal(7, #t2.sent)
    assert.are.equal("PaginationError", last.code)
  end)

  it("stops at max_items (default 100000) however the items are spread over pages", function()
    local c, t = client("guardduty", endless(50), { max_items = 120 })
    local all, err = c:list_all_invitations{}
    assert.is_nil(all)
    assert.are.equal("PaginationError", err.code)
    assert.matches("more than 120 items", err.message, 1, true)
    assert.matches("max_items", err.message, 1, true)
    assert.are.equal(3, #t.sent)
    local seen = 0
    for inv in c:each_invitation{} do
      if inv then seen = seen + 1 end
    end
    assert.are.equal(100, seen) -- the pages before the one that crosses the bound, then the error
  end)

  it("refuses a page larger than the model's maximum (50 for ListInvitations)", function()
    local c = client("guardduty", endless(51))
    local all, err = c:list_all_invitations{}
    assert.is_nil(all)
    assert.are.equal("PaginationError", err.code)
    assert.matches("page 1 has 51 Invitations; the model allows at most 50", err.message, 1, true)
    -- 50 is fine (the bound, not off by one)
    local ok_c = client("guardduty", { { body = cjson.encode({ invitations = (function()
      local l = {}
      for i = 1, 50 do l[i] = { accountId = string.format("%012d", i) } end
      return l
    end)() }) } })
    assert.are.equal(50, #assert(ok_c:list_all_invitations{}))
  end)

  it("checks max_pages and max_items as client options", function()
    for _, bad in ipairs{ { max_pages = 0 }, { max_items = -1 }, { max_pages = 1.5 } } do
      local k = next(bad)
      local ok, e = pcall(client, "guardduty", nil, bad)
      assert.is_false(ok)
      assert.matches("option " .. k .. " must be a whole number >= 1", e, 1, true)
    end
  end)
end)

describe("dry run", function()
  it("returns the signed request with the signature and token redacted, sends nothing", function()
    local c, t = client("guardduty", nil, { dry_run = true })
    local r = assert(c:decline_invitations{ AccountIds = ids(60) })
    assert.are.equal(0, #t.sent)
    assert.is_true(r.DryRun)
    assert.are.equal("POST", r.method)
    assert.are.equal("http://127.0.0.1:1/invitation/decline", r.url)
    assert.are.equal(2, #r.requests)
    local auth = header(r.headers, "authorization")
    assert.matches("Credential=AKIDEXAMPLE/20150830/us%-east%-1/guardduty/aws4_request", auth)
    assert.matches("Signature=REDACTED$", auth)
    assert.are.equal("REDACTED", header(r.headers, "x-amz-security-token"))
    local dump = cjson.encode(r)
    assert.is_nil(dump:find(SECRET, 1, true))
    assert.is_nil(dump:find(TOKEN, 1, true))
    assert.is_nil(dump:find("Signature=%x"))
  end)
end)

describe("errors", function()
  local cases = {
    { "x-amzn-ErrorType header with ':' suffix",
      { { "x-amzn-errortype", "BadRequestException:http://internal.amazon.com/" },
      { "x-amzn-requestid", "r1" } }, '{"message":"The request is rejected"}', 400,
      "BadRequestException", "The request is rejected" },
    { "__type with namespace", {}, '{"__type":"com.amazonaws.securityhub#InvalidInputException","Message":"bad"}',
      400, "InvalidInputException", "bad" },
    { "__type without namespace", {}, '{"__type":"ResourceNotFoundException","message":"gone"}', 404,
      "ResourceNotFoundException", "gone" },
    { "lower-case code", {}, '{"code":"ValidationException","message":"v"}', 400, "ValidationException", "v" },
    { "Code/Message", {}, '{"Code":"AccessDeniedException","Message":"no"}', 403, "AccessDeniedException", "no" },
  }
  for _, case in ipairs(cases) do
    it("parses " .. case[1], function()
      local c, t = client("securityhub", { { status = case[4], headers = case[2], body = case[3] } })
      local res, err = c:list_invitations{}
      assert.is_nil(res)
      assert.are.equal(case[5], err.code)
      assert.are.equal(case[6], err.message)
      assert.are.equal(case[4], err.status)
      assert.are.equal("securityhub", err.service)
      assert.are.equal("ListInvitations", err.operation)
      assert.is_false(err.retryable)
      assert.are.equal(1, #t.sent, "a 4xx is not retried")
      local line = tostring(err)
      assert.matches(case[5], line, 1, true)
      assert.is_nil(line:find("\n"))
    end)
  end

  it("a non-JSON error body still gives a clear error with the HTTP status", function()
    local c = client("macie2", { { status = 502, headers = {}, body = "<html><body>Bad Gateway</body></html>" } },
      { max_attempts = 1 })
    local _, err = c:get_invitations_count{}
    assert.are.equal(502, err.status)
    assert.are.equal("BadGateway", err.code)
    assert.matches("non%-JSON error response with HTTP status 502", err.message)
    assert.matches("Bad Gateway", err.message)
    assert.is_true(err.retryable)
  end)

  -- issue 14 item 7: a server's message is cut like a non-JSON body, never copied whole
  it("cuts a huge JSON error message to 1024 bytes, saying how much was cut", function()
    local huge = string.rep("A", 10 * 1024 * 1024)
    local c = client("guardduty", { { status = 400, body = cjson.encode({ message = huge }),
      headers = { { "x-amzn-errortype", "BadRequestException" } } } })
    local _, err = c:list_detectors{}
    assert.are.equal("BadRequestException", err.code)
    assert.is_true(#err.message < 1100, #err.message)
    assert.matches("^A+%.%.%. %(10485760 bytes, cut to 1024%)$", err.message)
    assert.is_true(#tostring(err) < 1300)
    -- the same for the x-amzn-ErrorMessage header, and a cut never splits a UTF-8 character
    local multi = string.rep("\195\169", 600) -- U+00E9 600 times, 1200 bytes
    local c2 = client("guardduty", { { status = 400, body = cjson.encode({ message = multi }),
      headers = { { "x-amzn-errortype", "BadRequestException" } } } })
    local _, err2 = c2:list_detectors{}
    local kept = err2.message:match("^(.-)%.%.%. ")
    assert.are.equal(1024, #kept)
    assert.are.equal("\195\169", kept:sub(-2)) -- ends on a whole character
    local c3 = client("guardduty", { { status = 400, body = "",
      headers = { { "x-amzn-errortype", "BadRequestException" }, { "x-amzn-errormessage", huge } } } })
    local _, err3 = c3:list_detectors{}
    assert.is_true(#err3.message < 1300, #err3.message)
  end)

  -- issue 14, "also": a server that echoes the caller's secret key or token in its message
  it("redacts the caller's own secret key and session token from a server's message", function()
    local echo = "bad token " .. TOKEN .. " with key " .. SECRET .. "; token again " .. TOKEN
    local c = client("guardduty", { { status = 403, body = cjson.encode({ message = echo, __type = TOKEN }),
      headers = { { "x-amzn-errortype", "AccessDenied" }, { "x-amzn-requestid", SECRET } } } })
    local _, err = c:list_detectors{}
    local line = tostring(err)
    for _, text in ipairs{ line, err.message, tostring(err.request_id) } do
      assert.is_nil(text:find(TOKEN, 1, true), text)
      assert.is_nil(text:find(SECRET, 1, true), text)
    end
    assert.are.equal("bad token [redacted] with key [redacted]; token again [redacted]", err.message)
  end)

  it("a 2xx that is not JSON is an InvalidResponse", function()
    local c = client("macie2", { { status = 200, body = '{"invitationsCount": 3' } }, { max_attempts = 1 })
    local _, err = c:get_invitations_count{}
    assert.are.equal("InvalidResponse", err.code)
  end)

  it("request ids come from x-amzn-RequestId", function()
    local c = client("guardduty", { { status = 400, headers = { { "x-amzn-requestid", "abc-123" },
      { "x-amzn-errortype", "BadRequestException" } }, body = "{}" } })
    local _, err = c:list_detectors{}
    assert.are.equal("abc-123", err.request_id)
    assert.matches("%[request%-id abc%-123%]", tostring(err))
  end)
end)

describe("retries (standard mode)", function()
  it("retries throttling and 5xx, then succeeds; RetryAttempts counts them", function()
    local c, t = client("guardduty", {
      { status = 429, headers = { { "x-amzn-errortype", "TooManyRequestsException" } }, body = "{}" },
      { status = 503, body = "Service Unavailable" },
      { body = '{"detectorIds":["d1"]}' },
    })
    local res = assert(c:list_detectors{})
    assert.are.equal(3, #t.sent)
    assert.are.equal(2, res.ResponseMetadata.RetryAttempts)
    -- full jitter with random() = 0.5: 0.5 * 2^0, 0.5 * 2^1
    assert.are.same({ 0.5, 1 }, t.slept)
  end)

  it("gives up after max_attempts (default 3) with the last error", function()
    local c, t = client("securityhub", { { status = 400, headers = { { "x-amzn-errortype", "LimitExceededException" } },
      body = '{"Message":"slow down"}' } })
    local _, err = c:get_invitations_count{}
    assert.are.equal(3, #t.sent)
    assert.are.equal("LimitExceededException", err.code)
    assert.are.equal(3, err.attempts)
    assert.is_true(err.retryable)
    local c5, t5 = client("securityhub", { { status = 500, body = "{}" } }, { max_attempts = 5 })
    c5:get_invitations_count{}
    assert.are.equal(5, #t5.sent)
  end)

  it("AWS_MAX_ATTEMPTS applies when the client sets no max_attempts", function()
    local c, t = client("macie2", { { status = 500, body = "{}" } }, { env = { AWS_MAX_ATTEMPTS = "2" } })
    c:get_invitations_count{}
    assert.are.equal(2, #t.sent)
  end)

  it("honours Retry-After (seconds and HTTP date), capped at 20 s", function()
    local c, t = client("macie2", {
      { status = 429, headers = { { "retry-after", "3" } }, body = "{}" },
      { status = 503, headers = { { "retry-after", "Sun, 30 Aug 2015 12:36:07 GMT" } }, body = "{}" },
      { body = '{"invitationsCount":1}' },
    })
    assert(c:get_invitations_count{})
    assert.are.same({ 3, 7 }, t.slept)
    local c2, t2 = client("macie2", { { status = 429, headers = { { "retry-after", "3600" } }, body = "{}" },
      { body = "{}" } })
    assert(c2:get_invitations_count{})
    assert.are.same({ 20 }, t2.slept)
  end)

  it("backoff grows exponentially and is capped at 20 s", function()
    local one = function() return 1 end
    local got = {}
    for n = 1, 7 do got[n] = retry.delay(n, {}, one) end
    assert.are.same({ 1, 2, 4, 8, 16, 20, 20 }, got)
    assert.are.equal(0, retry.delay(3, {}, function() return 0 end))
  end)

  it("retries connection resets and timeouts, not TLS failures", function()
    local c, t = client("guardduty", {
      { err = { kind = "reset", curl_code = 56, message = "Connection reset by peer" } },
      { err = { kind = "timeout", curl_code = 28, message = "Operation timed out" } },
      { body = '{"invitationsCount":2}' },
    })
    local res = assert(c:get_invitations_count{})
    assert.are.equal(2, res.InvitationsCount)
    assert.are.equal(3, #t.sent)
    local c2, t2 = client("guardduty", { { err = { kind = "tls", curl_code = 60, message = "bad cert" } } })
    local _, err = c2:get_invitations_count{}
    assert.are.equal(1, #t2.sent)
    assert.are.equal("TLSError", err.code)
    assert.is_nil(err.status)
  end)

  it("never retries validation or access errors", function()
    for _, code in ipairs{ "ValidationException", "AccessDeniedException", "BadRequestException",
      "UnrecognizedClientException", "ResourceNotFoundException" } do
      local c, t = client("macie2", { { status = 400, headers = { { "x-amzn-errortype", code } }, body = "{}" } })
      local _, err = c:list_invitations{}
      assert.are.equal(code, err.code)
      assert.are.equal(1, #t.sent, code)
      assert.is_nil(t.slept)
    end
  end)

  it("re-signs each attempt with the clock's current time", function()
    local now = 1440938160
    local c, t = client("guardduty", { { status = 500, body = "{}" }, { body = "{}" } },
      { clock = function() now = now + 60; return now end })
    assert(c:get_invitations_count{})
    assert.are_not.equal(header(t.sent[1].headers, "x-amz-date"), header(t.sent[2].headers, "x-amz-date"))
  end)

  it("the retry quota stops retries when exhausted", function()
    local q = retry.new_quota(7)
    assert.are.equal(5, retry.acquire(q, {}))
    assert.is_nil(retry.acquire(q, { kind = "timeout" }))
    retry.release(q, 5)
    assert.are.equal(7, q.available)
  end)
end)

describe("misuse and secrets", function()
  it("unknown client options and operations raise with a suggestion", function()
    assert.has_error(function() invite.guardduty.client{ regoin = "us-east-1" } end,
      'invite.guardduty.client: unknown option "regoin" (did you mean "region"?)')
    local c = client("guardduty")
    assert.has_error(function() c:call("decline_invitation", {}) end)
    assert.has_error(function() c.decline_invitations{ AccountIds = {} } end)
  end)

  it("credential failures are errors without secrets", function()
    local c = client("macie2", nil, { credentials = { get = function() return nil, "no keys here" end } })
    local _, err = c:get_invitations_count{}
    assert.are.equal("NoCredentialsError", err.code)
    assert.is_false(err.retryable)
  end)

  it("an error's text never contains the secret or the token", function()
    local c = client("guardduty", { { status = 403, headers = { { "x-amzn-errortype", "AccessDeniedException" } },
      body = '{"message":"denied"}' } })
    local _, err = c:list_detectors{}
    local s = tostring(err) .. cjson.encode(setmetatable({}, { __index = err }))
    for _, v in pairs(err) do s = s .. tostring(v) end
    assert.is_nil(s:find(SECRET, 1, true))
    assert.is_nil(s:find(TOKEN, 1, true))
  end)

  -- issue 14 item 12: what is validated is what is built and sent, whatever the metatables say
  it("validates and builds from one raw snapshot of the parameters (metatables cannot swap values)", function()
    local function two_faced(valid, evil)
      local reads = 0
      return setmetatable({}, {
        __index = function(_, k)
          if k == "AccountIds" then
            reads = reads + 1
            return reads == 1 and valid or evil
          end
        end,
      })
    end
    -- an __index that answers a valid list first and a hostile one afterwards: not a member at all
    local c, t = client("guardduty", { { body = '{"unprocessedAccounts":[]}' } })
    local res, err = c:decline_invitations(two_faced({ "111122223333" }, { "1111\0 DROP" }))
    assert.is_nil(res)
    assert.are.equal("ValidationError", err.code)
    assert.matches("AccountIds", err.message, 1, true)
    assert.are.equal(0, #t.sent)
    -- a list whose __index / __len lie: the raw elements are what is checked and sent
    local lying = setmetatable({ "111122223333" }, {
      __index = function(_, i) if i == 2 then return "1111\0 DROP" end end,
      __len = function() return 2 end,
    })
    assert(c:decline_invitations{ AccountIds = lying })
    assert.are.equal(1, #t.sent)
    assert.are.equal('{"accountIds":["111122223333"]}', t.sent[1].body)
    -- a valid raw table with a harmless metatable (what cjson's array_mt gives) is sent as usual
    local arr = setmetatable({ "222233334444" }, { __name = "array" })
    assert(c:decline_invitations(setmetatable({ AccountIds = arr }, {})))
    assert.are.equal('{"accountIds":["222233334444"]}', t.sent[2].body)
  end)

  it("transport kind is visible and overridable per client", function()
    assert.are.equal("curl", invite.macie2.client{ region = "us-east-1" }.transport_kind)
    local c = client("macie2")
    assert.are.equal("scripted", c.transport_kind)
    assert.are.equal("function", invite.macie2.client{ transport = function() end }.transport_kind)
  end)

  it("errors.clean_code handles every code spelling", function()
    assert.are.equal("X", errors.clean_code("X:http://a/b"))
    assert.are.equal("X", errors.clean_code("aws.ns#X"))
    assert.are.equal("X", errors.clean_code("aws.ns#X:extra"))
    assert.is_nil(errors.clean_code(""))
  end)
end)
