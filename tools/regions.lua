-- tools/regions.lua: writes lua/invite/regions/table.lua, the region table invite.regions reads,
-- from botocore's data/endpoints.json: per partition, its regions (name -> description) and, per
-- endpoint prefix, the regions where the service has a regional endpoint, plus the partition
-- endpoint of a service that has one (organizations, account, sts: `global`).
--
--   lua5.4 tools/regions.lua                      the botocore of `python3` (import botocore)
--   lua5.4 tools/regions.lua PATH/endpoints.json  that file (.json or .json.gz); the version is
--                                                 read from PATH/../../__init__.py
--   options: -o FILE (write FILE instead; - for stdout), --botocore-version V, --python PY
--
-- Needs lua-cjson. Which endpoint prefixes: every declaration's `endpoint_prefix`
-- (lua/invite/services/) plus EXTRA below. What counts as a region of a service: an endpoint
-- name that is one of the partition's regions (as botocore's get_available_endpoints does), not
-- `deprecated`, not a FIPS name (fips-*, *-fips); dualstack/FIPS variants are not regions. The
-- output is sorted, so the same botocore gives the same bytes (spec/pipeline/regions_spec.lua).
local ROOT = (arg and arg[0] or ""):match("^(.-)tools/regions%.lua$") or ""
package.path = ROOT .. "lua/?.lua;" .. ROOT .. "lua/?/init.lua;" .. package.path

local cjson = require "cjson"

-- Endpoint prefixes invite needs beyond its declarations (services to come, and the ones the
-- runner calls around the invitation services).
local EXTRA = { "account", "api.detective", "ec2", "organizations", "ram", "sts" }

local function die(msg)
  io.stderr:write("tools/regions.lua: ", msg, "\n")
  os.exit(1)
end

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local text = f:read("*a")
  f:close()
  return text
end

local function run(cmd)
  local p = io.popen(cmd, "r")
  if not p then return nil end
  local out = p:read("*a")
  p:close()
  return out
end

-- arguments
local opts = { python = "python3" }
do
  local i = 1
  while arg and arg[i] do
    local a = arg[i]
    if a == "-o" or a == "--botocore-version" or a == "--python" then
      local v = arg[i + 1]
      if not v then die(a .. " needs a value") end
      if a == "-o" then opts.out = v elseif a == "--python" then opts.python = v else opts.version = v end
      i = i + 2
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      die("unknown option " .. a .. " (usage: lua5.4 tools/regions.lua [endpoints.json[.gz]] [-o FILE] "
        .. "[--botocore-version V] [--python PY])")
    elseif opts.path then
      die("one endpoints file only (got " .. opts.path .. " and " .. a .. ")")
    else
      opts.path = a
      i = i + 1
    end
  end
end

-- where the data is, and botocore's version
local path, version = opts.path, opts.version
if not path then
  local out = run(sh_quote(opts.python) .. " -c " .. sh_quote(
    "import botocore, os; print(botocore.__version__); print(os.path.dirname(botocore.__file__))") .. " 2>/dev/null")
  local v, dir = (out or ""):match("^(%S+)\n([^\n]+)\n")
  if not v then die("cannot import botocore with " .. opts.python .. "; pass the path of endpoints.json") end
  version = version or v
  for _, name in ipairs{ "endpoints.json", "endpoints.json.gz" } do
    local p = dir .. "/data/" .. name
    if io.open(p, "rb") then path = p break end
  end
  if not path then die("no data/endpoints.json(.gz) in " .. dir) end
end
if not version then
  local init = read_file(path:match("^(.-)[^/]*$") .. "../__init__.py")
  version = init and init:match("\n__version__%s*=%s*['\"]([^'\"]+)['\"]")
  if not version then die("cannot tell botocore's version from " .. path .. "; pass --botocore-version V") end
end
if not version:match("^[%w%.%-]+$") then die("odd botocore version " .. version) end

local text
if path:match("%.gz$") then
  text = run("gzip -dc -- " .. sh_quote(path))
  if not text or text == "" then die("cannot decompress " .. path) end
else
  local err
  text, err = read_file(path)
  if not text then die("cannot read " .. path .. ": " .. tostring(err)) end
end
local ok, data = pcall(cjson.decode, text)
if not ok or type(data) ~= "table" or type(data.partitions) ~= "table" then
  die(path .. " is not botocore's endpoints data (no partitions)")
end

-- the endpoint prefixes
local prefixes, seen = {}, {}
local function want(p)
  if type(p) == "string" and not seen[p] then seen[p], prefixes[#prefixes + 1] = true, p end
end
local model = require "invite.model"
for _, name in ipairs(model.declared()) do
  local def = model.service(name).def
  want(def.endpoint_prefix or def.name)
end
for _, p in ipairs(EXTRA) do want(p) end
table.sort(prefixes)

local function fips(name)
  return name:match("^fips%-") or name:match("%-fips$")
end

-- "{service}.{region}.{dnsSuffix}" filled in
local function hostname(template, prefix, region, dns)
  return (template:gsub("{(%a+)}", { service = prefix, region = region, dnsSuffix = dns }))
end

local partitions, found = {}, {}
for _, p in ipairs(data.partitions) do
  local id = p.partition
  if type(id) ~= "string" or type(p.regions) ~= "table" or type(p.services) ~= "table" then
    die(path .. ": a partition without partition/regions/services")
  end
  local part = { regions = {}, services = {} }
  for name, r in pairs(p.regions) do part.regions[name] = type(r) == "table" and r.description or "" end
  for _, prefix in ipairs(prefixes) do
    local s = p.services[prefix]
    if type(s) == "table" and type(s.endpoints) == "table" then
      found[prefix] = true
      local list = {}
      for name, e in pairs(s.endpoints) do
        if p.regions[name] and not fips(name) and not (type(e) == "table" and e.deprecated) then
          list[#list + 1] = name
        end
      end
      table.sort(list)
      local entry = { regions = list }
      local pe = s.partitionEndpoint
      local e = pe and s.endpoints[pe]
      if type(e) == "table" and not e.deprecated then
        local defaults = s.defaults or {}
        local template = e.hostname or defaults.hostname or (p.defaults or {}).hostname
          or "{service}.{region}.{dnsSuffix}"
        local scope = e.credentialScope or defaults.credentialScope or {}
        entry.global = { host = hostname(template, prefix, pe, p.dnsSuffix),
                         signing_region = scope.region or pe }
      end
      part.services[prefix] = entry
    end
  end
  partitions[id] = part
end
for _, prefix in ipairs(prefixes) do
  if not found[prefix] then io.stderr:write("tools/regions.lua: note: no endpoints for ", prefix, "\n") end
end

-- the Lua file, keys sorted
local function q(s)
  return '"' .. tostring(s):gsub('[%c"\\]', function(c) return string.format("\\%03d", c:byte()) end) .. '"'
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

local out = {}
local function emit(s) out[#out + 1] = s end

-- a list of strings, wrapped at 110 columns, each line indented by `indent`
local function list_lines(list, indent)
  local line = indent
  for _, s in ipairs(list) do
    local item = q(s) .. ","
    if #line + 1 + #item > 110 and line ~= indent then
      emit(line)
      line = indent
    end
    line = line == indent and (line .. item) or (line .. " " .. item)
  end
  if line ~= indent then emit(line) end
end

emit("-- lua/invite/regions/table.lua: generated by tools/regions.lua from botocore " .. version
  .. " (data/endpoints.json).")
emit("-- Do not edit: regenerate with `lua5.4 tools/regions.lua` (see its header).")
emit("--")
emit("-- partitions[id].regions: region name -> description. partitions[id].services[endpoint prefix]:")
emit("-- regions = the regions where the service has a regional endpoint (sorted), and for a service")
emit("-- with a partition endpoint global = { host, signing_region }.")
emit("return {")
emit("  botocore = " .. q(version) .. ",")
emit("  partitions = {")
for _, id in ipairs(sorted_keys(partitions)) do
  local part = partitions[id]
  emit("    [" .. q(id) .. "] = {")
  emit("      regions = {")
  for _, name in ipairs(sorted_keys(part.regions)) do
    emit("        [" .. q(name) .. "] = " .. q(part.regions[name]) .. ",")
  end
  emit("      },")
  emit("      services = {")
  for _, prefix in ipairs(sorted_keys(part.services)) do
    local s = part.services[prefix]
    emit("        [" .. q(prefix) .. "] = {")
    if s.global then
      emit("          global = { host = " .. q(s.global.host) .. ", signing_region = "
        .. q(s.global.signing_region) .. " },")
    end
    if #s.regions == 0 then
      emit("          regions = {},")
    else
      emit("          regions = {")
      list_lines(s.regions, "            ")
      emit("          },")
    end
    emit("        },")
  end
  emit("      },")
  emit("    },")
end
emit("  },")
emit("}")
local result = table.concat(out, "\n") .. "\n"

local target = opts.out or (ROOT .. "lua/invite/regions/table.lua")
if target == "-" then
  io.write(result)
else
  local f, err = io.open(target, "wb")
  if not f then die("cannot write " .. target .. ": " .. tostring(err)) end
  f:write(result)
  f:close()
  io.stderr:write("tools/regions.lua: wrote ", target, " (botocore ", version, ", ", #sorted_keys(partitions),
    " partitions, ", #prefixes, " endpoint prefixes)\n")
end
