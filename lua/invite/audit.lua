--- Audit log: JSON lines, one per decision and per outcome, flushed and fsync'd as
-- they are written, so a run interrupted at any point shows exactly what was done.
-- Lines carry account IDs, invitation IDs, actions and outcomes; never credentials.
--
-- The log is a hash chain: every line begins `{"prev":"<hex>","seq":<n>,...}`, where `prev` is
-- the SHA-256 (hex) of the exact bytes of the line before it in the file (without its newline)
-- and `""` on a file's first line, and `seq` counts the lines one writer (one @{open}) wrote,
-- from 1. A run appending to an existing log chains to that file's last complete line; a last
-- line cut short by a crash (no newline) is closed with a newline, skipped by the chain, and
-- named in the first line the new writer writes (`torn_tail = true`, `torn_bytes`,
-- `torn_sha256`). @{verify} checks a log: the chain, each run's `start` .. `end`, one outcome per
-- decision. The chain has no key: it shows a line edited, removed, inserted or moved, not a
-- rewrite of the whole tail; keep the last line's hash (@{verify}'s `head`) elsewhere to cover that.
-- @module invite.audit
local _M = {}
local mt = { __index = _M }

local cjson = require "cjson"
local redact = require "invite.redact"

local type, tostring, pairs, ipairs = type, tostring, pairs, ipairs
local concat, sort = table.concat, table.sort

--- The longest line @{verify} reads (1 MiB); a longer one is refused, naming its line number.
_M.MAX_LINE = 1024 * 1024
--- The longest last line @{open} reads to chain to (8 MiB); a longer one is refused.
_M.MAX_TAIL = 8 * 1024 * 1024
local CHUNK = 64 * 1024

local function sha256(s)
  return require("invite.sigv4").sha256_hex(s)
end

local function iso_now()
  return os.date("!%Y-%m-%dT%H:%M:%SZ")
end

-- The byte position of the last "\n" in s, or nil.
local function last_newline(s)
  return s:match(".*()\n")
end

-- What the end of a log holds, from its last `buf` bytes (`whole`: buf is the whole file):
-- { line = last complete line or nil, torn = bytes after the last newline or nil }, or nil when
-- buf does not reach far enough back.
local function split_tail(buf, whole)
  local body, torn
  if buf:sub(-1) == "\n" then
    body = buf:sub(1, -2)
  else
    local i = last_newline(buf)
    if not i then
      if whole then return { torn = buf } end
      return nil
    end
    body, torn = buf:sub(1, i - 1), buf:sub(i + 1)
  end
  local j = last_newline(body)
  if j then return { line = body:sub(j + 1), torn = torn } end
  if whole then return { line = body, torn = torn } end
  return nil
end

-- The chain state of an existing log: prev (the hash of its last complete line, "" for an empty
-- or new file, or one that cannot be read back: a device, a pipe) and torn ({bytes, sha256} of a
-- last line without a newline), or nil, err.
local function tail_of(path)
  local f = io.open(path, "rb")
  if not f then return { prev = "" } end
  local size = f:seek("end")
  if not size or size == 0 then
    f:close()
    return { prev = "" }
  end
  local buf, pos = "", size
  local found
  while not found do
    local n = #buf < CHUNK and CHUNK or #buf
    if n > pos then n = pos end
    pos = pos - n
    local chunk = f:seek("set", pos) and f:read(n)
    if not chunk or #chunk ~= n then
      f:close()
      return { prev = "" } -- not a file that reads back (a device): nothing to chain to
    end
    buf = chunk .. buf
    found = split_tail(buf, pos == 0)
    if not found and #buf > _M.MAX_TAIL then
      f:close()
      return nil, "cannot chain to the audit log " .. path .. ": its last line is longer than "
        .. math.floor(_M.MAX_TAIL / 1048576) .. " MiB (not an audit log?)"
    end
  end
  f:close()
  local st = { prev = found.line and sha256(found.line) or "" }
  if found.torn then st.torn = { bytes = #found.torn, sha256 = sha256(found.torn) } end
  return st
end

--- Open (append) an audit log at `path`. `sync = false` skips fsync (tests, benchmarks).
-- An existing log is read back from its end to chain to its last complete line.
-- @tparam string path
-- @tparam[opt] table opts `sync`, `run_id` (written on every line)
-- @return log or nil, err
function _M.open(path, opts)
  if type(path) ~= "string" then error("audit.open: path must be a string", 2) end
  -- opened for appending first: a named pipe then has its writer, and reading it back does not wait
  local f, err = io.open(path, "ab")
  if not f then return nil, "cannot open audit log: " .. tostring(err) end
  local st, terr = tail_of(path)
  if not st then
    f:close()
    return nil, terr
  end
  opts = opts or {}
  return setmetatable({ file = f, path = path, sync = opts.sync ~= false, run_id = opts.run_id,
                        prev = st.prev, seq = 0, torn = st.torn }, mt)
end

--- A log that writes nothing (no audit file asked for).
function _M.null()
  return setmetatable({}, mt)
end

--- Write one event (a flat table); adds `prev`, `seq`, `time` and the run id. The line's hash
-- is that of the bytes written (after redaction), so the next line chains to exactly them.
-- @tparam table event
-- @return true or nil, err
function _M:write(event)
  if not self.file then return true end
  event.time = event.time or iso_now()
  event.run_id = self.run_id
  event.prev, event.seq = nil, nil
  local lead = ""
  if self.torn then
    -- a line cut short by a crash ends the file: it gets its newline (it stays, as evidence) and
    -- this line says what it was; the chain goes round it to the last complete line
    event.torn_tail, event.torn_bytes, event.torn_sha256 = true, self.torn.bytes, self.torn.sha256
    lead = "\n"
  end
  local ok, body = pcall(cjson.encode, event)
  if not ok then return nil, "audit: cannot encode event: " .. tostring(body) end
  -- a server may have echoed the caller's secrets into any field: they never reach the log
  body = redact.text(body)
  local seq = self.seq + 1
  local line = '{"prev":"' .. self.prev .. '","seq":' .. ("%d"):format(seq)
    .. (body == "{}" and "}" or ("," .. body:sub(2)))
  local w, err = self.file:write(lead, line, "\n")
  if not w then return nil, "audit: write failed: " .. tostring(err) end
  if self.sync then
    local s, serr = require("invite.native").fsync(self.file)
    if not s then return nil, "audit: fsync failed: " .. tostring(serr) end
  else
    -- a buffered write only fails when the buffer reaches the file: flush now and say so
    local f, ferr = self.file:flush()
    if not f then return nil, "audit: write failed: " .. tostring(ferr) end
  end
  self.torn, self.seq, self.prev = nil, seq, sha256(line)
  return true
end

--- Closes the log. -> true | nil, err (the last buffered bytes could not be written).
function _M:close()
  local f = self.file
  self.file = nil
  if not f then return true end
  local ok, err = f:close()
  if not ok then return nil, "audit: close failed: " .. tostring(err) end
  return true
end

--- The host name: /proc/sys/kernel/hostname, else $HOSTNAME, else /etc/hostname; nil when none.
-- @treturn ?string
function _M.hostname()
  for _, p in ipairs{ "/proc/sys/kernel/hostname", false, "/etc/hostname" } do
    local s
    if p then
      local f = io.open(p, "rb")
      if f then
        s = f:read("*a")
        f:close()
      end
    else
      s = os.getenv("HOSTNAME")
    end
    s = s and s:match("^%s*(.-)%s*$")
    if s and s ~= "" then return s end
  end
  return nil
end

--- A file's path and the SHA-256 of its bytes, as the `start` line names a policy:
-- `{ path = path, sha256 = hex }` (`error` instead of `sha256` when it cannot be read).
-- @tparam string path
-- @treturn table
function _M.file_digest(path)
  local f, err = io.open(path, "rb")
  if not f then return { path = path, error = tostring(err) } end
  local s = f:read("*a")
  f:close()
  if not s then return { path = path, error = "cannot read" } end
  return { path = path, sha256 = sha256(s), bytes = #s }
end

-- Flags whose value is never written to a log: the ExternalId a role's trust policy asks for
-- (AWS does not call it a secret, but it is a shared value only the caller and the account
-- owner should hold).
local SECRET_FLAGS = { ["--external-id"] = true }

local function strip_userinfo(s)
  -- https://user:password@host/ -> https://[redacted]@host/
  return (s:gsub("^(%a[%w+.-]*://)[^/@]*@", "%1" .. redact.MARK .. "@"))
end

--- A command line as a `start` line records it: `{ "invite", args... }` with the values of
-- secret flags (`--external-id`) and a URL's user and password replaced by `[redacted]`, and
-- every registered secret (invite.redact) removed. Environment variables are never recorded.
-- @tparam {string,...} argv the arguments (without the program name)
-- @tparam[opt="invite"] string program
-- @treturn {string,...}
function _M.command_line(argv, program)
  local out, hide = { program or "invite" }, false
  for _, a in ipairs(argv or {}) do
    a = tostring(a)
    if hide then
      a, hide = redact.MARK, false
    else
      local flag, value = a:match("^(%-%-[%w-]+)=(.*)$")
      if flag and SECRET_FLAGS[flag] then
        a = flag .. "=" .. redact.MARK
      elseif SECRET_FLAGS[a] then
        hide = true
      elseif flag then
        a = flag .. "=" .. strip_userinfo(value)
      else
        a = strip_userinfo(a)
      end
    end
    out[#out + 1] = redact.text(a)
  end
  return out
end

-- Fields of the start line that invite.run writes itself: audit_meta may not replace them.
local RESERVED = { event = true, prev = true, seq = true, time = true, run_id = true, torn_tail = true,
                   torn_bytes = true, torn_sha256 = true, version = true, host = true, apply = true,
                   scopes = true, skipped = true, accounts = true, caller_account = true, caller_arn = true,
                   caller_error = true }

--- Checks invite.run's `audit_meta` (fields added to the `start` line): a table of string keys
-- (letters, digits, `_`) that are not the start line's own fields, with JSON-encodable values.
-- @param meta
-- @return meta (or nil) or nil, message naming the field and the rule
function _M.check_meta(meta)
  if meta == nil then return true end
  if type(meta) ~= "table" then return nil, "audit_meta must be a table of fields for the start line" end
  for k, v in pairs(meta) do
    if type(k) ~= "string" or not k:find("^[%a_][%w_]*$") then
      return nil, "audit_meta: key " .. tostring(k) .. " must be a name (letters, digits, _)"
    end
    if RESERVED[k] then
      return nil, "audit_meta." .. k .. ": the start line writes " .. k .. " itself; use another name"
    end
    local ok, e = pcall(cjson.encode, v)
    if not ok then return nil, "audit_meta." .. k .. ": not JSON-encodable (" .. tostring(e) .. ")" end
  end
  return true
end

-- verify -------------------------------------------------------------------------------------

-- Reads `f` line by line, never holding more than `max` bytes of one line: returns
-- line, terminated (false: the file ends inside it), or nil (end), or nil, "long".
local function line_reader(f, max)
  local buf, pos, eof = "", 1, false
  return function()
    while true do
      local i = buf:find("\n", pos, true)
      if i and i - pos > max then return nil, "long" end
      if i then
        local line = buf:sub(pos, i - 1)
        pos = i + 1
        return line, true
      end
      if #buf - pos + 1 > max then return nil, "long" end
      if eof then
        if pos <= #buf then
          local line = buf:sub(pos)
          pos = #buf + 1
          return line, false
        end
        return nil
      end
      local chunk = f:read(CHUNK)
      buf = buf:sub(pos) .. (chunk or "")
      pos = 1
      if not chunk then eof = true end
    end
  end
end

local function str(v) return type(v) == "string" and v or (type(v) == "number" and tostring(v)) or "" end

-- The invitation a decision or outcome line is about, and its inviter in that scope (what a
-- batched call names).
local function key_of(ev)
  local scope = str(ev.service) .. " " .. str(ev.region) .. " " .. str(ev.account) .. " "
  return scope .. (ev.invitation_id ~= nil and str(ev.invitation_id) or str(ev.account_id)),
    scope .. str(ev.account_id)
end

-- A number as a message shows it: 67, not 67.0 (cjson decodes every number as a float on 5.3+).
local function num(v)
  if type(v) == "number" and v == math.floor(v) and v > -2^53 and v < 2^53 then return ("%d"):format(v) end
  return tostring(v)
end

local NO_RUN_ID = "(no run_id)"

local function plural(n, one, many) return num(n) .. " " .. (n == 1 and one or (many or (one .. "s"))) end

--- Verifies an audit log: that it is unbroken (every line one JSON object whose `prev` is the
-- hash of the line before it) and complete (every run has its `start` and its `end`; in an
-- apply, every decision has exactly one outcome, and no outcome lacks its decision; no line of a
-- run follows its `end`; a plan makes no call). A log cut short by a crash is checked as far as
-- it goes. Reads one line at a time (at most @{MAX_LINE} bytes each).
-- @tparam string path
-- @tparam[opt] table opts `head`: a line hash recorded earlier that the log must still hold
-- @treturn table `ok`, `unbroken`, `complete`, `lines`, `head` (the hash of the last complete
--   line), `runs` (`run_id`, `first_line`, `last_line`, `start_line`, `end_line`, `apply`,
--   `decisions`, `outcomes`, `calls`, `pending`, `status`: complete, incomplete or broken),
--   `problems` (`line`, `rule`, `message`; what breaks `unbroken`: json, line_size, chain,
--   torn_tail, format, head, empty; what breaks `complete`: truncated, start, end, outcome,
--   after_end, plan_call) and `notes`
-- @return or nil, err when the file cannot be read
function _M.verify(path, opts)
  opts = opts or {}
  local f, err = io.open(path, "rb")
  if not f then return nil, "cannot open " .. tostring(path) .. ": " .. tostring(err) end
  local probe, perr = f:read(0)
  if probe == nil and perr then
    f:close()
    return nil, "cannot read " .. tostring(path) .. ": " .. tostring(perr)
  end
  local res = { path = path, lines = 0, runs = {}, problems = {}, notes = {} }
  local chain_rules = { json = true, line_size = true, chain = true, torn_tail = true,
                        format = true, head = true, empty = true }
  local function problem(line, rule, message)
    res.problems[#res.problems + 1] = { line = line, rule = rule, message = message }
  end
  local hashes, sizes, by_hash = {}, {}, {}
  local bad_json = {}     -- line -> message (reported unless it is a torn line a start names)
  local acknowledged = {} -- line -> true: a torn line a later start recorded
  local mismatches = {}   -- { line, prev, seq, prev_seq }
  local runs = {}
  local last_seq          -- seq of the last line that had one
  local read = line_reader(f, _M.MAX_LINE)
  local n = 0
  while true do
    local line, terminated = read()
    if line == nil then
      if terminated == "long" then
        problem(n + 1, "line_size", "line " .. (n + 1) .. " is longer than " .. math.floor(_M.MAX_LINE / 1048576)
          .. " MiB (line_size: no audit line is): not an audit log there; the lines after it are not checked")
      end
      break
    end
    n = n + 1
    if not terminated then
      problem(n, "truncated", "line " .. n .. " is cut short: the file ends inside it (" .. plural(#line, "byte")
        .. ", no newline) (truncated: every line ends with a newline): the log was truncated, or its "
        .. "writer crashed mid-line")
      break
    end
    local h = sha256(line)
    hashes[n], sizes[n] = h, #line
    if not by_hash[h] then by_hash[h] = n end
    local ok, ev = pcall(cjson.decode, line)
    if not ok or type(ev) ~= "table" then
      bad_json[n] = "line " .. n .. " is not a JSON object (json: one JSON object per line)"
      last_seq = nil
    else
      -- the chain: prev is the hash of the line before (a start that names a torn line before it
      -- chains to the line before that one)
      local expected_at = n - 1
      local prev = ev.prev
      if ev.event == "start" and ev.torn_tail == true then
        if n >= 2 and ev.torn_bytes == sizes[n - 1] and ev.torn_sha256 == hashes[n - 1] then
          acknowledged[n - 1] = true
          expected_at = n - 2
          res.notes[#res.notes + 1] = "line " .. (n - 1) .. ": the last line of a run cut short by a crash ("
            .. plural(sizes[n - 1], "byte") .. "), recorded by the start at line " .. n .. " (torn_tail)"
        else
          problem(n, "torn_tail", "line " .. n .. ": its start says the line before it was cut short (torn_tail, "
            .. num(ev.torn_bytes) .. " bytes), but line " .. (n - 1) .. " is not that line")
        end
      end
      local expected = expected_at >= 1 and hashes[expected_at] or ""
      if type(prev) ~= "string" then
        problem(n, "format", "line " .. n .. " has no prev hash (format: every line chains to the one before)")
      elseif prev ~= expected then
        mismatches[#mismatches + 1] = { line = n, at = expected_at, prev = prev, seq = ev.seq, prev_seq = last_seq }
      end
      last_seq = type(ev.seq) == "number" and ev.seq or nil
      -- the run
      local id = ev.run_id
      local event = ev.event
      if type(id) ~= "string" then
        -- a log opened without a run id (audit.open(path) handed to invite.run as `audit`): its
        -- lines are checked as one run
        id = NO_RUN_ID
      end
      if type(event) ~= "string" then
        problem(n, "format", "line " .. n .. " has no event (format: every line names its event)")
      else
        local run = runs[id]
        if not run then
          run = { run_id = id, first_line = n, decisions = 0, outcomes = 0, calls = 0, pending = {},
                  done = {}, called = {} }
          runs[id] = run
          res.runs[#res.runs + 1] = run
        end
        run.last_line = n
        if run.end_line and event ~= "end" then
          problem(n, "after_end", "line " .. n .. ": a " .. event .. " after run " .. id .. "'s end (line "
            .. run.end_line .. ") (after_end: nothing of a run follows its end"
            .. (event == "call" and "; this mutating call is not in the run's totals" or "") .. ")")
        end
        if event == "start" then
          if run.start_line then
            problem(n, "start", "line " .. n .. ": a second start for run " .. id .. " (the first is line "
              .. run.start_line .. ") (start: one per run)")
          else
            run.start_line, run.apply = n, ev.apply == true
            run.version, run.host, run.caller_arn, run.policy = ev.version, ev.host, ev.caller_arn, ev.policy
            if run.first_line < n then
              problem(n, "start", "line " .. n .. ": run " .. id .. "'s start comes after its line "
                .. run.first_line .. " (start: a run begins with its start line)")
            end
          end
        elseif not run.start_line and not run.no_start then
          run.no_start = true
          problem(n, "start", "line " .. n .. ": run " .. id .. " has no start line before it (start: a run "
            .. "begins with its start line)")
        end
        if event == "end" then
          if run.end_line then
            problem(n, "end", "line " .. n .. ": a second end for run " .. id .. " (the first is line "
              .. run.end_line .. ") (end: one per run)")
          else
            run.end_line, run.totals = n, { invitations = ev.invitations, errors = ev.errors }
          end
        elseif event == "decision" then
          local k, inviter = key_of(ev)
          run.decisions = run.decisions + 1
          local p = run.pending[k]
          if p then p.count = p.count + 1 else run.pending[k] = { count = 1, line = n, inviter = inviter } end
        elseif event == "outcome" then
          local k = key_of(ev)
          local p = run.pending[k]
          run.outcomes = run.outcomes + 1
          if p and p.count > 0 then
            p.count = p.count - 1
            if p.count == 0 then run.pending[k] = nil end
            run.done[k] = n
          elseif run.done[k] then
            problem(n, "outcome", "line " .. n .. ": a second outcome for " .. k .. " (the first is line "
              .. run.done[k] .. ") (outcome: exactly one per decision)")
          elseif ev.outcome == "error" then
            -- the runner records an invitation it could not decide (no valid inviter, what it would
            -- share unknown) with an error outcome and no decision
            run.done[k] = n
            run.undecided = (run.undecided or 0) + 1
          else
            problem(n, "outcome", "line " .. n .. ": an outcome (" .. str(ev.outcome) .. ") for " .. k
              .. " with no decision before it (outcome: no outcome without its decision)")
          end
        elseif event == "call" then
          run.calls = run.calls + 1
          if run.apply == false then
            problem(n, "plan_call", "line " .. n .. ": a call (" .. str(ev.operation) .. ") in run " .. id
              .. ", a plan (plan_call: a plan sends no mutating call)")
          end
          local scope = str(ev.service) .. " " .. str(ev.region) .. " " .. str(ev.account) .. " "
          if ev.invitation_id ~= nil then run.called[scope .. str(ev.invitation_id)] = true end
          if type(ev.account_ids) == "table" then
            for _, a in ipairs(ev.account_ids) do run.called[scope .. str(a)] = true end
          end
        end
      end
    end
  end
  f:close()
  res.lines = n
  for i = n, 1, -1 do
    if hashes[i] then res.head = hashes[i] break end
  end

  -- lines that are not JSON, unless a later start recorded them as torn by a crash
  for line, msg in pairs(bad_json) do
    if not acknowledged[line] then problem(line, "json", msg) end
  end
  -- what each broken link means
  for _, m in ipairs(mismatches) do
    local at, other = m.at, by_hash[m.prev]
    local msg
    if other and other ~= at then
      msg = "line " .. m.line .. ": its prev hash does not match line " .. at .. "; it is the hash of line " .. other
        .. " (chain): the lines were reordered (line " .. m.line .. " was written right after what is now line "
        .. other .. ")"
    elseif at < 1 then
      msg = "line " .. m.line .. ": its prev hash names a line that is not in the file, where a log's first line "
        .. "chains to \"\" (chain): lines before it were removed (the file was cut at the front)"
    elseif type(m.seq) == "number" and type(m.prev_seq) == "number" and m.seq > m.prev_seq + 1 then
      local k = m.seq - m.prev_seq - 1
      msg = "line " .. m.line .. ": its prev hash does not match line " .. at .. " and its seq jumps from "
        .. num(m.prev_seq) .. " to " .. num(m.seq) .. " (chain): " .. plural(k, "line was", "lines were")
        .. " removed before line " .. m.line
    else
      msg = "line " .. m.line .. ": its prev hash does not match line " .. at .. " (chain): line " .. at
        .. " was edited after it was written (its bytes are not those line " .. m.line .. " chained to), "
        .. "or replaced"
    end
    problem(m.line, "chain", msg)
  end
  if n == 0 and #res.problems == 0 then
    problem(nil, "empty", "the log is empty (empty: a run writes at least its start): nothing was recorded, "
      .. "or the file was truncated to nothing")
  end
  if opts.head then
    local at = by_hash[opts.head]
    if at then
      res.notes[#res.notes + 1] = "head " .. opts.head .. " is line " .. at .. ": the log still holds it"
    else
      problem(nil, "head", "the line recorded as head (" .. tostring(opts.head) .. ") is not in the log (head): "
        .. "that line, or the lines before it, were changed or removed since it was recorded")
    end
  end

  -- every run: its end, and in an apply one outcome per decision
  for _, run in ipairs(res.runs) do
    local pending, first, sent = 0, nil, 0
    for k, p in pairs(run.pending) do
      pending = pending + p.count
      if not first or p.line < first then first = p.line end
      if run.called[k] or run.called[p.inviter] then sent = sent + p.count end
    end
    if not run.apply then pending, sent = 0, 0 end
    run.pending_count = pending
    if not run.end_line then
      problem(run.last_line, "end", "incomplete: run " .. run.run_id .. " has no end; "
        .. plural(pending, "decision") .. " without an outcome"
        .. (sent > 0 and (" (" .. sent .. " of them in a call the log recorded: sent, the answer unknown)") or "")
        .. "; its last line is " .. run.last_line .. " (end: every run ends with its end line; the run was cut "
        .. "short, or the log was truncated)")
    elseif pending > 0 then
      problem(run.end_line, "outcome", "run " .. run.run_id .. ": " .. plural(pending, "decision")
        .. " without an outcome, the first at line " .. first .. " (outcome: exactly one per decision)")
    end
    if run.run_id == NO_RUN_ID then
      res.notes[#res.notes + 1] = "lines " .. run.first_line .. "-" .. run.last_line .. " name no run_id (a log "
        .. "opened without one): checked as one run"
    end
    if run.undecided then
      res.notes[#res.notes + 1] = "run " .. run.run_id .. ": " .. plural(run.undecided, "invitation")
        .. " recorded with an error outcome and no decision (not decidable: no valid inviter, or what it "
        .. "would share unknown)"
    end
    run.pending, run.done, run.called, run.no_start = nil, nil, nil, nil
  end
  sort(res.problems, function(a, b)
    local la, lb = a.line or math.huge, b.line or math.huge
    if la ~= lb then return la < lb end
    return a.message < b.message
  end)
  res.unbroken, res.complete = true, true
  for _, p in ipairs(res.problems) do
    if chain_rules[p.rule] then res.unbroken = false else res.complete = false end
  end
  for _, run in ipairs(res.runs) do
    local broken = false
    for _, p in ipairs(res.problems) do
      if p.line and p.line >= run.first_line and p.line <= run.last_line then broken = true end
    end
    run.status = (not run.end_line or (run.pending_count or 0) > 0) and "incomplete"
      or (broken and "broken" or "complete")
  end
  res.ok = #res.problems == 0
  return res
end

--- The text `invite audit verify` prints for a @{verify} result: one line per run, one per
-- problem, the head, and a verdict.
-- @tparam table res
-- @treturn string
function _M.verify_text(res)
  local out = {}
  local function say(s) out[#out + 1] = s end
  say(res.path .. ": " .. plural(res.lines, "line") .. ", " .. plural(#res.runs, "run") .. ", "
    .. (res.unbroken and "chain unbroken" or "chain BROKEN") .. ", " .. (res.complete and "complete" or "INCOMPLETE"))
  for _, run in ipairs(res.runs) do
    say("run " .. run.run_id .. ": lines " .. run.first_line .. "-" .. run.last_line .. ", "
      .. (run.apply and "apply" or "plan") .. ", " .. plural(run.decisions, "decision") .. ", "
      .. plural(run.outcomes, "outcome") .. ", " .. plural(run.calls, "call") .. ", "
      .. (run.end_line and ("end at line " .. run.end_line) or "no end") .. ": " .. run.status)
  end
  for _, note in ipairs(res.notes) do say("note: " .. note) end
  for _, p in ipairs(res.problems) do say(p.message) end
  if res.head then say("head: " .. res.head) end
  if res.ok then
    say("ok: the log is complete and unbroken")
  else
    local what = {}
    if not res.unbroken then what[#what + 1] = "broken" end
    if not res.complete then what[#what + 1] = "incomplete" end
    say("FAILED: " .. plural(#res.problems, "problem") .. ": the log is " .. concat(what, " and "))
  end
  return concat(out, "\n") .. "\n"
end

return _M
