-- invite.config.ini: the parser for the AWS shared files (~/.aws/config, ~/.aws/credentials).
--
-- It reads the dialect botocore reads (Python's configparser in strict mode, then botocore's
-- nested-value pass), narrowed where configparser is loose, and says file and line on error:
--   * Lines whose first non-blank character is '#' or ';' are comments. There are no inline
--     comments: `region = us-east-1 # x` has the value "us-east-1 # x", as in botocore.
--   * `[name]` starts a section; the name is trimmed. A trailing '#'/';' comment after the ']'
--     is allowed; other text after it is an error. A section may not appear twice in one file.
--   * `key = value` or `key: value` (the first '=' or ':' splits); keys are trimmed and
--     lower-cased (configparser's optionxform); values are trimmed. A key may not appear twice
--     in one section. Keys before the first section are an error.
--   * A line indented deeper than its key line continues that key's value. When the key's own
--     value is empty (`s3 =`), the indented lines are a sub-section of `key = value` lines
--     (keys trimmed, case kept, as botocore's nested parser does) and the value is a table;
--     otherwise the lines are joined to the value with "\n".
--   * A UTF-8 byte-order mark and CR line ends are accepted.
-- Errors are "file:line: what is wrong", in general terms: they never quote text of the file (a
-- key, a section name, a line), since a token pasted on the wrong line would be shown (and a key,
-- lower-cased). The line number is enough to find it.
-- Result: { sections = { [name] = { [key] = string | table } }, order = { name... },
--           lines = { [name] = line number } }.

local _M = {}

local type, ipairs = type, ipairs

local function perr(filename, lineno, msg)
  return ("%s:%d: %s"):format(filename or "<config>", lineno, msg)
end

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- Turns a list of continuation lines into a nested table (botocore's _parse_nested).
local function nested(lines, filename)
  local t = {}
  for _, item in ipairs(lines) do
    local text, lineno = item[1], item[2]
    local k, v = text:match("^([^=]*)=(.*)$")
    if not k then
      return nil, perr(filename, lineno, "expected `key = value` in the indented block")
    end
    k = trim(k)
    if k == "" then return nil, perr(filename, lineno, "empty key in the indented block") end
    t[k] = trim(v)
  end
  return t
end

-- parse(text, filename) -> result | nil, "file:line: message"
function _M.parse(text, filename)
  if type(text) ~= "string" then error("ini.parse: text must be a string", 2) end
  if text:sub(1, 3) == "\239\187\191" then text = text:sub(4) end

  local sections, order, lines = {}, {}, {}
  local cur                      -- current section table
  local key, key_indent          -- current key (for continuation lines)
  local cont                     -- list of {text, lineno} continuation lines for `key`
  local first_value              -- the key's own value
  local seen_keys                -- keys seen in the current section

  local function finish_key()
    if not key then return true end
    if cont and #cont > 0 then
      if first_value == "" then
        local t, e = nested(cont, filename)
        if not t then return nil, e end
        cur[key] = t
      else
        local parts = { first_value }
        for _, item in ipairs(cont) do parts[#parts + 1] = item[1] end
        cur[key] = table.concat(parts, "\n")
      end
    else
      cur[key] = first_value
    end
    key, cont, first_value = nil, nil, nil
    return true
  end

  local lineno = 0
  for raw in (text .. "\n"):gmatch("([^\n]*)\n") do
    lineno = lineno + 1
    local line = raw:gsub("\r$", "")
    local stripped = trim(line)
    local indent = #line:match("^[ \t]*")
    -- blank lines keep an open indented block open (configparser keeps empty lines in
    -- values); comment lines are skipped wherever they are
    local skip = stripped == "" or stripped:match("^[#;]") ~= nil
    if not skip and key and indent > key_indent then
      cont = cont or {}
      cont[#cont + 1] = { stripped, lineno }
    elseif not skip then
      local ok, e = finish_key()
      if not ok then return nil, e end
      if stripped:sub(1, 1) == "[" then
        local name, after = stripped:match("^%[([^%]]*)%](.*)$")
        if not name then
          return nil, perr(filename, lineno, "section header is missing its closing ']'")
        end
        after = trim(after)
        if after ~= "" and not after:match("^[#;]") then
          return nil, perr(filename, lineno, "unexpected text after the section header")
        end
        name = trim(name)
        if name == "" then return nil, perr(filename, lineno, "empty section name") end
        if sections[name] then
          return nil, perr(filename, lineno, ("this section already appeared on line %d")
            :format(lines[name]))
        end
        cur = {}
        sections[name] = cur
        order[#order + 1] = name
        lines[name] = lineno
        seen_keys = {}
      else
        local k, v = stripped:match("^([^=:]*)[=:](.*)$")
        if not k then
          return nil, perr(filename, lineno, "expected `key = value`, a [section] or a comment")
        end
        k = trim(k):lower()
        if k == "" then return nil, perr(filename, lineno, "empty key") end
        if not cur then
          return nil, perr(filename, lineno, "a `key = value` line appears before any [section]")
        end
        if seen_keys[k] then
          return nil, perr(filename, lineno, ("this key is already set on line %d, in the same section")
            :format(seen_keys[k]))
        end
        seen_keys[k] = lineno
        key, key_indent, first_value, cont = k, indent, trim(v), nil
      end
    end
  end
  local ok, e = finish_key()
  if not ok then return nil, e end
  return { sections = sections, order = order, lines = lines }
end

-- Splits "profile  name" -> "profile", "name" (botocore uses shlex; we accept one name that may
-- be quoted with ' or "). Returns nil when the header is not `<kind> <name>`.
function _M.split_header(header)
  local kind, rest = header:match("^(%S+)%s+(.+)$")
  if not kind then return nil end
  rest = trim(rest)
  local q = rest:sub(1, 1)
  if (q == '"' or q == "'") and rest:sub(-1) == q and #rest >= 2 then
    rest = rest:sub(2, -2)
  elseif rest:find("%s") then
    return nil
  end
  if rest == "" then return nil end
  return kind, rest
end

return _M
