-- invite.report's table and the CLI's terminal output: text a server sends (an invitation's
-- invitedAt, an error message) is printed with every control character escaped, so a server
-- cannot retitle, clear or reprogram the terminal, and the columns stay aligned.
local interp = require "support.interp"
local report = require "invite.report"
local sim = require "support.sim"
local cjson = require "cjson"

local HOSTILE = "\27]0;pwned\7\27[2J"   -- OSC "set title", BEL, then "clear screen"
local HOSTILE_SHOWN = "\\x1b]0;pwned\\x07\\x1b[2J"

-- no byte a terminal acts on: C0 (but the line feeds that end lines), DEL, C1 as UTF-8 or as a lone byte
local function assert_inert(text, what)
  local bad = text:gsub("\n", ""):find("[%z\1-\31\127]")
  assert.is_nil(bad, what .. " has a control byte at " .. tostring(bad) .. ": " .. text)
  assert.is_nil(text:find("\194[\128-\159]"), what .. " has a UTF-8 C1 control character")
  assert.is_nil(require("invite.validate").utf8_error(text), what .. " is not valid UTF-8")
end

-- The character offset where each column starts, from the header's words.
local function column_starts(header)
  local starts = {}
  for pos in header:gmatch("()%S+") do starts[#starts + 1] = pos end
  return starts
end

local function chars(s) return report.width(s) end

local function record(o)
  local r = { service = "macie2", region = "us-east-1", account = "111111111111", account_id = "222222222222",
              invited_at = "2024-01-01T00:00:00Z", action = "keep", reason = "ours", outcome = "kept" }
  for k, v in pairs(o) do r[k] = v end
  return r
end

describe("invite.report", function()
  describe("escape", function()
    it("shows C0, DEL, C1 and bytes that are not UTF-8 as visible escapes", function()
      assert.are.equal(HOSTILE_SHOWN, report.escape(HOSTILE))
      assert.are.equal("a\\x00b\\x0ac\\x0dd\\x09e\\x7f", report.escape("a\0b\nc\rd\te\127"))
      assert.are.equal("csi \\u009b2J nel \\u0085", report.escape("csi \194\1552J nel \194\133"))
      assert.are.equal("lone \\x9b2J, cut \\xe2\\x82", report.escape("lone \1552J, cut \226\130"))
      assert.are.equal("overlong \\xc0\\x80, surrogate \\xed\\xa0\\x80",
        report.escape("overlong \192\128, surrogate \237\160\128"))
    end)

    it("keeps printable text and valid UTF-8 as it is", function()
      for _, s in ipairs{ "", "plain text", "back\\slash", "invitación-招待-😀", "\194\160nbsp", "\194\191" } do
        assert.are.equal(s, report.escape(s))
      end
      assert.are.equal("42", report.escape(42))
    end)

    it("gives printable, valid UTF-8 for every byte", function()
      for b = 0, 255 do
        local e = report.escape("x" .. string.char(b) .. "y")
        assert_inert(e, ("byte %d"):format(b))
      end
    end)
  end)

  describe("table", function()
    it("escapes every cell and keeps the columns aligned", function()
      local recs = {
        record{ invited_at = HOSTILE },
        record{ service = "securityhub", reason = "line one\nline two\r\n", outcome = "error",
                detail = "server said \27[31mred\27[0m" },
        record{ account_id = "\155" .. "2J", action = "decline", reason = "déclinée ✓", invited_at = "\194\155x" },
        record{ region = "eu-west-1", reason = "\0nul" },
        record{ service = "ram", label = "share\27]0;owned\7", reason = "a RAM share's name is the sender's text" },
      }
      local text = report.table{ invitations = recs }
      assert_inert(text, "the table")
      local lines = {}
      for l in text:gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
      assert.are.equal(1 + #recs, #lines, "one line per record: " .. text)
      assert.truthy(text:find(HOSTILE_SHOWN, 1, true))
      assert.truthy(text:find("line one\\x0aline two\\x0d\\x0a", 1, true))
      assert.truthy(text:find("error (server said \\x1b[31mred\\x1b[0m)", 1, true))
      assert.truthy(text:find("\\x9b2J", 1, true))
      assert.truthy(text:find("\\u009bx", 1, true))
      assert.truthy(text:find("déclinée ✓", 1, true))
      -- every cell of every row starts at its header's column (counted in characters)
      local starts = column_starts(lines[1])
      assert.are.equal(10, #starts)
      assert.truthy(text:find("share\\x1b]0;owned\\x07", 1, true))
      for r = 2, #lines do
        local l = lines[r]
        for c = 2, #starts do
          -- the characters before the column: its cell starts right after two spaces
          local prefix_chars, bytes = 0, 0
          for ch in l:gmatch("[%z\1-\127\194-\244][\128-\191]*") do
            if prefix_chars == starts[c] - 1 then break end
            prefix_chars, bytes = prefix_chars + 1, bytes + #ch
          end
          assert.are.equal(starts[c] - 1, prefix_chars, ("row %d is shorter than column %d"):format(r, c))
          assert.are.equal("  ", l:sub(bytes - 1, bytes), ("row %d, column %d: %s"):format(r, c, l))
          assert.is_not.equal(" ", l:sub(bytes + 1, bytes + 1), ("row %d, column %d: %s"):format(r, c, l))
        end
        assert.is_true(chars(l) >= starts[#starts])
      end
    end)
  end)
end)

describe("the CLI's terminal output", function()
  local tmp

  setup(function()
    tmp = os.tmpname()
    os.remove(tmp)
    assert(0 == interp.execute("mkdir -p " .. sim.shell_quote(tmp)))
  end)
  teardown(function()
    if tmp then os.execute("rm -rf " .. sim.shell_quote(tmp)) end
  end)

  -- bin/invite with the fake transport answering `answers` (service -> {status, body}); nothing is
  -- sent anywhere. -> exit code, stdout, stderr, the requests the fake saw
  local function invite(args, answers)
    sim.write_file(tmp .. "/answers.json", cjson.encode(answers))
    os.remove(tmp .. "/requests.log")
    local env = {
      "PATH=" .. (os.getenv("PATH") or "/usr/bin:/bin"), "HOME=" .. tmp,
      "LUA_PATH=" .. sim.ROOT .. "/spec/?.lua;" .. sim.ROOT .. "/lua/?.lua;" .. sim.ROOT .. "/lua/?/init.lua;;",
      "LUA_CPATH=" .. sim.ROOT .. "/" .. interp.CPATH .. ";;",
      "INVITE_FAKE_ANSWERS=" .. tmp .. "/answers.json", "INVITE_FAKE_LOG=" .. tmp .. "/requests.log",
      "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true",
      "AWS_ACCESS_KEY_ID=AKIAFAKETRANSPORT001", "AWS_SECRET_ACCESS_KEY=fake-transport-secret",
      "AWS_MAX_ATTEMPTS=1",
    }
    for i, v in ipairs(env) do env[i] = sim.shell_quote(v) end
    local q = {}
    for i, a in ipairs(args) do q[i] = sim.shell_quote(a) end
    local cmd = ("cd %s && env -i %s %s -l support.fake_transport bin/invite %s >%s/out 2>%s/err; echo $? >%s/rc")
      :format(sim.shell_quote(sim.ROOT), table.concat(env, " "), interp.LUA, table.concat(q, " "), tmp, tmp, tmp)
    os.execute(cmd)
    local code = tonumber((sim.read_file(tmp .. "/rc") or ""):match("%d+"))
    local requests = {}
    for l in (sim.read_file(tmp .. "/requests.log") or ""):gmatch("[^\n]+") do requests[#requests + 1] = l end
    return code, sim.read_file(tmp .. "/out") or "", sim.read_file(tmp .. "/err") or "", requests
  end

  local function invitations(list)
    return { status = 200, body = cjson.encode{ invitations = list } }
  end

  it("list: an invitedAt with OSC and CSI sequences, and an error message with them", function()
    local code, out, err, requests = invite(
      { "list", "--services", "macie2,securityhub", "--regions", "us-east-1", "--endpoint-url", "http://127.0.0.1:9" },
      { macie2 = invitations{
          { accountId = "222222222222", invitationId = "inv-1", invitedAt = HOSTILE, relationshipStatus = "Invited" },
          { accountId = "333333333333", invitationId = "inv-2", invitedAt = "2024-01-01T00:00:00Z",
            relationshipStatus = "Invited" } },
        securityhub = { status = 400, body = cjson.encode{ __type = "InvalidInputException",
          message = "no such thing\27]0;pwned-too\7\27[2J\155" .. "2J" } } })
    -- who am I (STS GetCallerIdentity), then one list per service
    assert.are.equal(3, #requests, table.concat(requests, "\n"))
    assert.matches(" sts$", requests[1])
    assert.are.equal(1, code, err)
    assert_inert(out, "stdout")
    assert_inert(err, "stderr")
    assert.truthy(out:find(HOSTILE_SHOWN, 1, true), out)
    assert.truthy(err:find("no such thing\\x1b]0;pwned-too\\x07\\x1b[2J\\x9b2J", 1, true), err)
    -- the two rows' cells start where the header's do
    local lines = {}
    for l in out:gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
    assert.are.equal(3, #lines, out)
    local starts = column_starts(lines[1])
    for r = 2, 3 do
      for c = 2, #starts do
        assert.are.equal("  ", lines[r]:sub(starts[c] - 2, starts[c] - 1), lines[r])
        assert.is_not.equal(" ", lines[r]:sub(starts[c], starts[c]), lines[r])
      end
    end
  end)

  it("list --json keeps the exact text (cjson escapes it)", function()
    local code, out, err = invite(
      { "list", "--services", "macie2", "--regions", "us-east-1", "--endpoint-url", "http://127.0.0.1:9", "--json" },
      { macie2 = invitations{ { accountId = "222222222222", invitationId = "inv-1", invitedAt = HOSTILE } } })
    assert.are.equal(0, code, err)
    assert_inert(out, "stdout")
    assert.are.equal(HOSTILE, cjson.decode(out).invitations[1].invited_at)
  end)

  it("count: an error message with control characters", function()
    local code, out, err = invite(
      { "count", "--services", "guardduty", "--regions", "us-east-1", "--endpoint-url", "http://127.0.0.1:9" },
      { guardduty = { status = 400, body = cjson.encode{ __type = "BadRequestException", message = "bad\27[2J" } } })
    assert.are.equal(1, code, err)
    assert_inert(out, "stdout")
    assert_inert(err, "stderr")
    assert.truthy(out:find("bad\\x1b[2J", 1, true), out)
  end)

  it("decline: an unprocessed reason and an error message with control characters", function()
    local code, out, err = invite(
      { "decline", "--service", "guardduty", "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9",
        "222222222222" },
      { guardduty = { status = 200, body = cjson.encode{ unprocessedAccounts = {
          { accountId = "222222222222", result = "nope\27]0;x\7" } } } } })
    assert.are.equal(3, code, err)
    assert_inert(out, "stdout")
    assert.truthy(out:find("222222222222  unprocessed: nope\\x1b]0;x\\x07", 1, true), out)
    code, out, err = invite(
      { "delete", "--service", "guardduty", "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9",
        "222222222222" },
      { guardduty = { status = 403, body = cjson.encode{ __type = "AccessDeniedException", message = "no\27[2J" } } })
    assert.are.equal(1, code, err)
    assert.are.equal("", out)
    assert_inert(err, "stderr")
    assert.truthy(err:find("no\\x1b[2J", 1, true), err)
  end)
end)
