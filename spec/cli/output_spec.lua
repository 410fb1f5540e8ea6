-- Output other tools can read (issue 19 item 2, 3 part): every JSON document and JSON line of the
-- CLI validated against docs/schema/invite-report-1.json (support.schema: python3's jsonschema),
-- a failing example, --output jsonl/csv/table, the summary's count per action, and identical
-- errors of many scopes said once on stderr.
local interp = require "support.interp"
local sim = require "support.sim"
local schema = require "support.schema"
local cjson = require "cjson"
local report = require "invite.report"

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

describe("JSON schema invite.report/1", function()
  local s, tmp
  local prod = sim.keys.prod

  local function invite(args, extra_env)
    local env = "env -u LD_PRELOAD -u AWS_PROFILE -u AWS_SESSION_TOKEN AWS_CONFIG_FILE=/dev/null "
      .. "AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 "
      .. "AWS_ACCESS_KEY_ID=" .. prod.access_key_id .. " AWS_SECRET_ACCESS_KEY=" .. sh_quote(prod.secret_access_key)
      .. " " .. (extra_env or "")
    local cmd = env .. " " .. interp.LUA .. " bin/invite " .. args .. " --endpoint-url " .. s.endpoint
      .. " >" .. tmp .. ".out 2>" .. tmp .. ".err"
    local code = interp.execute(cmd)
    return code, assert(io.open(tmp .. ".out")):read("*a"), assert(io.open(tmp .. ".err")):read("*a")
  end

  before_each(function()
    s = sim.start{ fixtures = "examples/fixtures/org.json" }
    tmp = os.tmpname()
  end)
  after_each(function()
    s:stop()
    os.remove(tmp); os.remove(tmp .. ".out"); os.remove(tmp .. ".err")
  end)

  it("the schema file is valid draft 2020-12 and a document with errors as strings fails it", function()
    local good = report.encode(report.object{ schema = report.SCHEMA, command = "whoami", identity = report.null,
                                              errors = report.array() })
    assert.is_true((schema.check(good)))
    -- errors as the report's lines (strings), as invite 0.1's --json printed them: refused, by path
    local bad = good:gsub('"errors":%[%]', '"errors":["guardduty us-east-1 222222222222: list_invitations failed"]')
    local ok, problems = schema.check(bad)
    assert.is_false(ok)
    assert.matches("/errors/0: 'guardduty us%-east%-1 222222222222: list_invitations failed' is not of type 'object'",
      problems)
    -- an empty list as {} (lua-cjson's default): refused
    ok, problems = schema.check((good:gsub('"errors":%[%]', '"errors":{}')))
    assert.is_false(ok)
    assert.matches("/errors: {} is not of type 'array'", problems)
    -- a plan document without its totals, with an unknown member: both named
    ok, problems = schema.check(cjson.encode{ schema = "invite.report/1", command = "count", errors = {},
                                              counts = cjson.decode("[]"), extra = 1 })
    assert.is_false(ok)
    assert.matches("'totals' is a required property", problems)
    assert.matches("'extra' was unexpected", problems)
  end)

  it("list, plan, apply, accept, count, decline, delete and whoami --json: valid documents, lists always arrays",
    function()
    local code, out, err = invite("list --regions us-east-1 --json")
    assert.are.equal(0, code, err)
    local doc = schema.valid(out)
    assert.are.equal("list", doc.command)
    assert.are.equal("invite.report/1", doc.schema)
    assert.are.same({}, doc.errors)
    assert.truthy(out:find('"errors":[]', 1, true), "an empty list is []")
    assert.truthy(out:find('"warnings":[]', 1, true))
    assert.truthy(out:find('"skipped":[]', 1, true))
    for _, inv in ipairs(doc.invitations) do
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d", inv.invited_at, inv.service)
    end

    code, out, err = invite("plan examples/policy.lua --regions us-east-1 --output json")
    assert.are.equal(0, code, err)
    doc = schema.valid(out)
    assert.are.equal("plan", doc.command)
    assert.is_false(doc.apply)
    -- the summary counts each action
    assert.matches("; actions: accept 4, decline 65, decline_and_delete 117\n", err)

    code, out, err = invite("apply examples/policy.lua --regions us-east-1 --json")
    assert.is_true(code == 0 or code == 3, err)
    doc = schema.valid(out)
    assert.are.equal("apply", doc.command)
    assert.is_true(doc.apply)
    assert.matches("actions: accept 4, decline 65, decline_and_delete 117", err)

    code, out, err = invite("accept --service guardduty --region eu-west-1 111111111111 --json")
    assert.is_number(code)
    doc = schema.valid(out)
    assert.are.equal("accept", doc.command, err)

    code, out, err = invite("count --regions us-east-1 --json")
    assert.are.equal(0, code, err)
    doc = schema.valid(out)
    assert.are.equal("count", doc.command)
    assert.are.equal(6, #doc.counts)

    code, out = invite("decline --service macie2 --region us-east-1 123456789012 --json")
    assert.are.equal(3, code)
    doc = schema.valid(out)
    assert.are.equal("unprocessed", doc.results[1].outcome)
    code, out = invite("delete --service guardduty --region us-east-1 123456789012 --json")
    assert.are.equal(3, code)
    doc = schema.valid(out)
    assert.are.equal("delete", doc.command)
    code, out = invite("decline --service detective --region us-east-1 "
      .. "arn:aws:detective:us-east-1:123456789012:graph:0a9e3c7b15d24f6e8b1c4d7a2e9f6b30 --json")
    assert.are.equal(1, code)
    doc = schema.valid(out)
    assert.are.equal("ResourceNotFoundException", doc.errors[1].code)
    assert.are.equal("error", doc.results[1].outcome)

    code, out = invite("whoami --json")
    assert.are.equal(0, code)
    doc = schema.valid(out)
    assert.are.equal("222222222222", doc.identity.account)
  end)

  it("errors are objects (scope, code, message, request_id, retryable); identical ones are one line on stderr",
    function()
    s:set_faults("always guardduty 500")
    local regions = "us-east-1,us-west-2,eu-west-1,eu-central-1,ap-southeast-1"
    local code, out, err = invite("list --services guardduty,macie2 --regions " .. regions .. " --json",
      "AWS_MAX_ATTEMPTS=1")
    assert.are.equal(1, code, err)
    local doc = schema.valid(out)
    assert.are.equal(5, #doc.errors)
    for _, e in ipairs(doc.errors) do
      assert.are.equal("guardduty", e.scope.service)
      assert.are.equal("222222222222", e.scope.account)
      assert.are.equal("InternalServerErrorException", e.code)
      assert.is_string(e.request_id)
      assert.is_true(e.retryable)
      assert.matches("^list_invitations failed: ", e.message)
    end
    -- one line for the five, the first three scopes named
    local lines = {}
    for l in err:gmatch("error[^\n]*") do lines[#lines + 1] = l end
    assert.are.equal(1, #lines, err)
    assert.matches("^error %(5 scopes: guardduty %S+ 222222222222, guardduty %S+ 222222222222, guardduty %S+ "
      .. "222222222222 and 2 more%): list_invitations failed: guardduty ListInvitations: InternalServerErrorException",
      lines[1])
    assert.is_nil(lines[1]:find("request-id", 1, true))
    -- the same in --output jsonl: nothing but the invitations on stdout, each valid
    code, out = invite("list --services guardduty,macie2 --regions " .. regions .. " --output jsonl",
      "AWS_MAX_ATTEMPTS=1")
    assert.are.equal(1, code)
    local rows = schema.valid(out, { mode = "jsonl", def = "invitation" })
    assert.is_true(#rows > 0)
    for _, r in ipairs(rows) do assert.are.equal("macie2", r.service) end
  end)

  it("a time that is not ISO 8601 is null, its text kept in raw_invited_at; jsonl and csv stay inert", function()
    s:set_faults("always macie2:ListInvitations escape")
    local code, out, err = invite("list --services macie2 --regions us-east-1 --json")
    assert.are.equal(0, code, err)
    local doc = schema.valid(out)
    assert.are.equal(cjson.null, doc.invitations[1].invited_at)
    assert.matches("\27%]0;pwned\7", doc.invitations[1].raw_invited_at)
    code, out = invite("list --services macie2 --regions us-east-1 --output jsonl")
    assert.are.equal(0, code)
    schema.valid(out, { mode = "jsonl", def = "invitation" })
    code, out = invite("list --services macie2 --regions us-east-1 --output csv")
    assert.are.equal(0, code)
    assert.is_nil(out:find("[%z\1-\9\11\12\14-\31\127]"), "no control character but CRLF")
    assert.matches("\\x1b%]0;pwned\\x07", out)
  end)

  it("jsonl of count, csv of count; --json with another --output is refused", function()
    local code, out, err = invite("count --regions us-east-1 --output jsonl")
    assert.are.equal(0, code, err)
    local rows = schema.valid(out, { mode = "jsonl", def = "count_row" })
    assert.are.equal(6, #rows)
    code, out = invite("count --regions us-east-1 --output csv")
    assert.are.equal(0, code)
    assert.matches("^service,region,account,count,error\r\nmacie2,us%-east%-1,222222222222,62,\r\n", out)
    code, out, err = invite("list --json --output csv")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.matches("%-%-json is %-%-output json", err)
  end)
end)

describe("invite.report CSV", function()
  it("RFC 4180 cells: quotes, commas and newlines quoted; control characters escaped; formulas defused", function()
    local text = report.csv{ invitations = {
      { service = "ram", region = "us-east-1", account = "222222222222", account_id = "999999999999",
        invitation_id = "arn:x", label = '=HYPERLINK("http://evil","a, b")', invited_at = "2026-01-01T00:00:00Z",
        status = "pending", raw_status = "PENDING", action = "decline", reason = "+1 line\nnext\27[2J",
        outcome = "planned", detail = "@SUM(A1)" },
      { service = "macie2", region = "us-east-1", account = "222222222222", account_id = "333333333333",
        status = "pending", action = "keep", reason = "-2", outcome = "kept" },
    } }
    local lines = {}
    for l in text:gmatch("([^\r]*)\r\n") do lines[#lines + 1] = l end
    assert.are.equal(3, #lines, text)
    assert.are.equal(table.concat(report.CSV_COLUMNS, ","), lines[1])
    assert.are.equal('ram,us-east-1,222222222222,999999999999,arn:x,"\'=HYPERLINK(""http://evil"",""a, b"")",'
      .. "2026-01-01T00:00:00Z,pending,PENDING,decline,'+1 line\\x0anext\\x1b[2J,planned,'@SUM(A1)", lines[2])
    assert.are.equal("macie2,us-east-1,222222222222,333333333333,,,,pending,,keep,'-2,kept,", lines[3])
    -- a line break never reaches a cell: it is escaped like every control character (one row, one line)
    assert.are.equal("a\\x0d\\x0ab", report.csv_cell("a\r\nb"))
    assert.are.equal('"say ""hi"", then"', report.csv_cell('say "hi", then'))
  end)

  it("encode: marked and unmarked empty tables, sorted keys, no escaped slashes", function()
    assert.are.equal('{"a":[],"b":{},"c":[1,"x/y"],"d":null}',
      report.encode{ d = report.null, c = { 1, "x/y" }, b = report.object(), a = {} })
    assert.are.equal('["a\\\\/b"]', report.encode{ "a\\/b" })
  end)

  it("error_lines: one error as before, identical ones grouped without their request IDs", function()
    local e = function(region, msg) return report.error_object({ service = "guardduty", region = region,
      account = "222222222222" }, msg) end
    assert.are.same({ "error: guardduty us-east-1 222222222222: boom [request-id 1]" },
      report.error_lines{ e("us-east-1", "boom [request-id 1]") })
    assert.are.same({ "error (2 scopes: guardduty us-east-1 222222222222, guardduty us-west-2 222222222222): boom",
                      "error: account 444444444444: no role" },
      report.error_lines{ e("us-east-1", "boom [request-id 1]"), e("us-west-2", "boom [request-id 2]"),
                          report.error_object({ account = "444444444444" }, "no role") })
  end)
end)
