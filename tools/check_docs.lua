-- tools/check_docs.lua: fails when a public definition of invite's documented modules has no
-- LDoc comment (a block starting with `---`) right above it. Parses the sources; loads nothing.
--
--   lua5.4 tools/check_docs.lua                      the modules of the API reference (below)
--   lua5.4 tools/check_docs.lua [--tables a,b] FILE...  other files (the spec feeds it bad ones)
--
-- Public definitions:
--   function _M.f / function _M:f / _M.x = ...        (top level; a leading _ means private)
--   function M.f, function Class:f / Class.f          (M: a module table built in a function, as
--                                                      invite.service_module does; Class: a
--                                                      capitalised table, e.g. Client, Sim)
--   the entries `name = ...` of an exported table     (init.lua's lazy fields, a service's
--                                                      operations), named per file below
-- An internal method still needs a line saying so; `-- @local` in its block keeps it out of the
-- HTML. Prints one line per miss, `file:line: what`, and exits 1; exit 0 and a count otherwise.

-- The modules of the API reference and their exported tables.
local DEFAULT = {
  { "lua/invite/init.lua", { "lazy" } },
  { "lua/invite/sigv4.lua" },
  { "lua/invite/client.lua" },
  { "lua/invite/services/macie2.lua", { "operations" } },
  { "lua/invite/services/securityhub.lua", { "operations" } },
  { "lua/invite/services/guardduty.lua", { "operations" } },
  { "lua/invite/runner.lua" },
  { "lua/invite/audit.lua" },
  { "lua/invite/scope.lua" },
  { "lua/invite/regions.lua" },
  { "lua/invite/sim/init.lua" },
}

local function read_lines(path)
  local f, err = io.open(path, "r")
  if not f then return nil, err end
  local lines = {}
  for line in f:lines() do lines[#lines + 1] = line end
  f:close()
  return lines
end

-- Is there an LDoc block ending on line i - 1? Like LDoc, take the whole run of comment lines
-- above it: its first line must start with exactly three dashes (a plain `--` line right above a
-- `---` line makes the whole run a plain comment; `----...` rulers are not doc comments).
local function documented(lines, i)
  local j = i - 1
  if j < 1 or not lines[j]:find("^%s*%-%-") then return false end
  while j > 1 and lines[j - 1]:find("^%s*%-%-") do j = j - 1 end
  local first = lines[j]
  return first:find("^%s*%-%-%-$") ~= nil or first:find("^%s*%-%-%-[^%-]") ~= nil
end

-- Brace depth change of one line, ignoring strings and a trailing comment (good enough for
-- table constructors written one entry per line, as these files are).
local function depth_delta(line)
  local s = line:gsub("\\.", ""):gsub('"[^"]*"', '""'):gsub("'[^']*'", "''"):gsub("%-%-.*$", "")
  local _, open = s:gsub("{", "")
  local _, close = s:gsub("}", "")
  return open - close
end

local function check_file(path, tables, misses)
  local lines, err = read_lines(path)
  if not lines then
    misses[#misses + 1] = path .. ": cannot read: " .. tostring(err)
    return 0
  end
  local want_table = {}
  for _, t in ipairs(tables or {}) do want_table[t] = true end
  local count = 0
  local in_table, depth, table_name = false, 0, nil
  local function need(i, what)
    count = count + 1
    if not documented(lines, i) then
      misses[#misses + 1] = ("%s:%d: %s has no doc comment (a --- block right above it)"):format(path, i, what)
    end
  end
  for i, line in ipairs(lines) do
    if in_table then
      if depth == 1 then
        local name = line:match("^%s*([%a_][%w_]*)%s*=")
        if name and name:sub(1, 1) ~= "_" then need(i, table_name .. " entry '" .. name .. "'") end
      end
      depth = depth + depth_delta(line)
      if depth <= 0 then in_table = false end
    else
      local tname = line:match("^%s*local%s+([%a_][%w_]*)%s*=%s*{%s*$") or line:match("^%s*([%a_][%w_]*)%s*=%s*{%s*$")
      if tname and want_table[tname] then
        in_table, depth, table_name = true, 1, tname
      else
        local tbl, sep, name = line:match("^%s*function%s+([%a_][%w_]*)([.:])([%a_][%w_]*)%s*%(")
        if tbl and (tbl == "_M" and not line:find("^%s") or tbl == "M" or tbl:find("^%u"))
            and name:sub(1, 1) ~= "_" then
          need(i, "function " .. tbl .. sep .. name)
        else
          local field = line:match("^_M%.([%a_][%w_]*)%s*=")
          if field and field:sub(1, 1) ~= "_" then need(i, "_M." .. field) end
        end
      end
    end
  end
  return count
end

local function main(argv)
  local files, tables = {}, nil
  local i = 1
  while i <= #argv do
    if argv[i] == "--tables" then
      tables = {}
      for t in (argv[i + 1] or ""):gmatch("[^,]+") do tables[#tables + 1] = t end
      i = i + 2
    else
      files[#files + 1] = { argv[i], tables }
      i = i + 1
    end
  end
  if #files == 0 then files = DEFAULT end
  local misses, total = {}, 0
  for _, f in ipairs(files) do total = total + check_file(f[1], f[2], misses) end
  for _, m in ipairs(misses) do io.stderr:write(m, "\n") end
  if #misses > 0 then
    io.stderr:write(("check_docs: %d of %d public definitions in %d files have no doc comment\n")
      :format(#misses, total, #files))
    return 1
  end
  io.stdout:write(("check_docs: %d public definitions in %d files, all documented\n"):format(total, #files))
  return 0
end

os.exit(main(arg))
