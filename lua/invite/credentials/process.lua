-- invite.credentials.process: `credential_process` - run a command, read JSON credentials from
-- its standard output (botocore's ProcessProvider).
--
-- The command line is split like a POSIX shell would split words (botocore uses shlex.split),
-- but no shell interprets it: every word is passed on quoted, so `;`, `$(...)`, globs and
-- redirections in the profile are plain text. The output must be JSON with "Version": 1,
-- AccessKeyId, SecretAccessKey, optional SessionToken and optional Expiration (ISO 8601); with
-- an Expiration the credentials are refreshed (the command is run again) before they expire,
-- without one they are kept for the life of the provider.
-- A non-zero exit is an error that carries the exit status and the first line of standard error
-- (at most 200 bytes); standard output never appears in an error since it holds secrets.
-- io.popen blocks; inside nginx pass opts.run (e.g. built on ngx.pipe):
--   run(argv) -> stdout, stderr, exit_status | nil, message

local common = require "invite.credentials.common"
local provider = require "invite.credentials.provider"

local _M = {}

local type, tostring, tonumber = type, tostring, tonumber
local concat = table.concat
local new_error = common.new_error

-- POSIX-shell word splitting: whitespace separates words, '...' is literal, "..." allows \" \\
-- \$ \` escapes, a backslash outside quotes escapes the next character.
function _M.split(cmd)
  local words, cur, have = {}, {}, false
  local i, n = 1, #cmd
  while i <= n do
    local c = cmd:sub(i, i)
    if c:match("%s") then
      if have then words[#words + 1] = concat(cur); cur, have = {}, false end
      i = i + 1
    elseif c == "'" then
      local j = cmd:find("'", i + 1, true)
      if not j then return nil, "unterminated single quote" end
      cur[#cur + 1] = cmd:sub(i + 1, j - 1); have = true
      i = j + 1
    elseif c == '"' then
      i = i + 1
      have = true
      while true do
        if i > n then return nil, "unterminated double quote" end
        local d = cmd:sub(i, i)
        if d == '"' then i = i + 1; break end
        if d == "\\" and i < n and cmd:sub(i + 1, i + 1):match('[\\"$`\n]') then
          cur[#cur + 1] = cmd:sub(i + 1, i + 1); i = i + 2
        else
          cur[#cur + 1] = d; i = i + 1
        end
      end
    elseif c == "\\" then
      if i == n then return nil, "trailing backslash" end
      cur[#cur + 1] = cmd:sub(i + 1, i + 1); have = true
      i = i + 2
    else
      cur[#cur + 1] = c; have = true
      i = i + 1
    end
  end
  if have then words[#words + 1] = concat(cur) end
  if #words == 0 then return nil, "empty command" end
  return words
end

local function shquote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local MARK = "\n__invite_credential_process_exit__:"

-- Default runner: io.popen through /bin/sh with every word single-quoted.
function _M.popen_run(argv)
  local parts = {}
  for i, a in ipairs(argv) do parts[i] = shquote(a) end
  local errfile = os.tmpname()
  local cmd = ("%s 2>%s; printf '%s%%d\\n' \"$?\""):format(concat(parts, " "), shquote(errfile),
    (MARK:gsub("\n", "\\n")))
  local p, perr = io.popen(cmd, "r")
  if not p then os.remove(errfile); return nil, "cannot start: " .. tostring(perr) end
  local out = p:read("*a") or ""
  p:close()
  local ef = io.open(errfile, "rb")
  local stderr = ef and ef:read("*a") or ""
  if ef then ef:close() end
  os.remove(errfile)
  local s, e = nil, nil
  local from = 1
  while true do
    local a, b = out:find(MARK, from, true)
    if not a then break end
    s, e = a, b
    from = b + 1
  end
  if not s then return nil, "could not read the exit status" end
  local status = tonumber(out:match("^(%d+)", e + 1))
  return out:sub(1, s - 1), stderr, status
end

local function first_line(s)
  s = tostring(s or ""):match("^%s*([^\r\n]*)") or ""
  if #s > 200 then s = s:sub(1, 200) .. "..." end
  return s
end

-- fetch(command, opts, label) -> creds | nil, err
function _M.fetch(command, opts, label)
  label = label or "credential_process"
  local argv, serr = _M.split(command)
  if not argv then
    return nil, new_error("InvalidConfiguration", ("%s: cannot split the command: %s"):format(label, serr))
  end
  local run = opts.run or _M.popen_run
  local stdout, stderr, status = run(argv)
  if stdout == nil then
    return nil, new_error("CredentialProcessError", ("%s: %s"):format(label, tostring(stderr)))
  end
  if status ~= 0 then
    local msg = ("%s: %s exited with status %s"):format(label, argv[1], tostring(status))
    local line = first_line(stderr)
    if line ~= "" then msg = msg .. ": " .. line end
    return nil, new_error("CredentialProcessError", msg, { exit_status = status })
  end
  local cjson = require "cjson.safe"
  local doc = cjson.decode(stdout)
  if type(doc) ~= "table" then
    return nil, new_error("CredentialProcessError", label .. ": the output is not a JSON object")
  end
  if doc.Version ~= 1 then
    return nil, new_error("CredentialProcessError",
      ("%s: unsupported Version %s in the output (supported: 1)"):format(label,
        doc.Version == nil and "<missing>" or tostring(doc.Version)))
  end
  for _, k in ipairs({ "AccessKeyId", "SecretAccessKey" }) do
    if type(doc[k]) ~= "string" or doc[k] == "" then
      return nil, new_error("CredentialProcessError", ("%s: %s is missing from the output"):format(label, k))
    end
  end
  local exp
  if doc.Expiration ~= nil and doc.Expiration ~= cjson.null then
    exp = common.parse_iso8601(doc.Expiration)
    if not exp then
      return nil, new_error("CredentialProcessError", label .. ": Expiration is not an ISO 8601 time")
    end
  end
  local token = doc.SessionToken
  if token == cjson.null then token = nil end
  return { access_key_id = doc.AccessKeyId, secret_access_key = doc.SecretAccessKey,
           session_token = token, expiration = exp, source = label,
           account_id = type(doc.AccountId) == "string" and doc.AccountId or nil }
end

-- new{command = "...", run = fn, clock = ...} -> provider
function _M.new(opts)
  if type(opts) ~= "table" or type(opts.command) ~= "string" or opts.command == "" then
    error("credentials.process: command is required", 2)
  end
  return provider.new("credential_process", function()
    return _M.fetch(opts.command, opts, opts.label)
  end, opts)
end

return _M
