--- XML reading for the AWS query protocols (invite.protocols.query; STS answers).
--
-- With lua-expat (`lxp`) a document is read by expat; without it, by the small strict reader
-- below, which understands exactly what AWS sends: elements, attributes (read past, unused), text,
-- the five predefined entities and numeric character references, CDATA, comments, processing
-- instructions and the XML declaration. Both refuse a DOCTYPE or an entity declaration (no entity
-- expansion), mismatched or unclosed tags, text outside the root element, a second root, and
-- elements nested deeper than @{MAX_DEPTH}.
--
-- The result is a tree: each element is a table `{name = "Tag", text = "its own text", child1,
-- child2, ...}` (children in document order in the array part; `text` is the element's direct
-- text, concatenated, entities decoded).
-- @module invite.xml
local type, tostring, tonumber, pcall, require = type, tostring, tonumber, pcall, require
local concat, floor = table.concat, math.floor
local char, find, sub, match, gsub = string.char, string.find, string.sub, string.match, string.gsub

local _M = {}

--- The deepest nesting accepted (an AWS answer nests a handful of levels; a document nested deeper
-- is refused rather than walked).
_M.MAX_DEPTH = 100

local function utf8_char(cp)
  if cp < 0x80 then return char(cp) end
  if cp < 0x800 then return char(0xC0 + floor(cp / 0x40), 0x80 + cp % 0x40) end
  if cp < 0x10000 then
    return char(0xE0 + floor(cp / 0x1000), 0x80 + floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
  end
  return char(0xF0 + floor(cp / 0x40000), 0x80 + floor(cp / 0x1000) % 0x40,
    0x80 + floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
end

local ENTITIES = { lt = "<", gt = ">", amp = "&", quot = '"', apos = "'" }

local function decode_text(s)
  if not find(s, "&", 1, true) then return s end
  if find((gsub(s, "&[#%w]+;", "")), "&", 1, true) then return nil, "bare '&' in text" end
  local bad
  local out = gsub(s, "&([#%w]+);", function(ent)
    if ENTITIES[ent] then return ENTITIES[ent] end
    local n
    if match(ent, "^#x%x+$") then n = tonumber(sub(ent, 3), 16)
    elseif match(ent, "^#%d+$") then n = tonumber(sub(ent, 2)) end
    if n and n > 0 and n <= 0x10FFFF then return utf8_char(n) end
    bad = ent
    return ""
  end)
  if bad then return nil, "unknown entity &" .. bad .. ";" end
  return out
end

-- The tree being built: a stack of open elements and, per element, its text pieces.
local function builder()
  local b = { stack = {}, texts = {}, depth = 0 }
  function b.open(name)
    if b.depth >= _M.MAX_DEPTH then return nil, "elements nested deeper than " .. _M.MAX_DEPTH end
    local node = { name = name }
    local d = b.depth
    if d == 0 then
      if b.root then return nil, "more than one root element" end
      b.root = node
    else
      local parent = b.stack[d]
      parent[#parent + 1] = node
    end
    d = d + 1
    b.depth = d
    b.stack[d] = node
    b.texts[d] = {}
    return true
  end
  function b.close()
    local d = b.depth
    b.stack[d].text = concat(b.texts[d])
    b.stack[d], b.texts[d] = nil, nil
    b.depth = d - 1
  end
  function b.text(s)
    local t = b.texts[b.depth]
    if t then t[#t + 1] = s end
  end
  return b
end

--- The built-in reader.
-- @string xml the document
-- @treturn table the root element
-- @return[2] nil
-- @treturn[2] string why the document is refused
function _M.parse_builtin(xml)
  if type(xml) ~= "string" then return nil, "no body" end
  local b = builder()
  local stack = b.stack
  local pos, len = 1, #xml
  if sub(xml, 1, 3) == "\239\187\191" then pos = 4 end
  while pos <= len do
    local lt = find(xml, "<", pos, true)
    local text = sub(xml, pos, (lt or len + 1) - 1)
    if b.depth == 0 then
      if find(text, "%S") then return nil, "text outside the root element" end
    elseif text ~= "" then
      local d, e = decode_text(text)
      if not d then return nil, e end
      b.text(d)
    end
    if not lt then break end
    if sub(xml, lt, lt + 3) == "<!--" then
      local e = find(xml, "-->", lt + 4, true)
      if not e then return nil, "unterminated comment" end
      pos = e + 3
    elseif sub(xml, lt, lt + 8) == "<![CDATA[" then
      local e = find(xml, "]]>", lt + 9, true)
      if not e or b.depth == 0 then return nil, "bad CDATA section" end
      b.text(sub(xml, lt + 9, e - 1))
      pos = e + 3
    elseif sub(xml, lt, lt + 1) == "<?" then
      local e = find(xml, "?>", lt + 2, true)
      if not e then return nil, "unterminated processing instruction" end
      pos = e + 2
    elseif sub(xml, lt, lt + 1) == "<!" then
      return nil, "DOCTYPE and declarations are not accepted"
    else
      local gt = find(xml, ">", lt + 1, true)
      if not gt then return nil, "unterminated tag" end
      local tag = sub(xml, lt + 1, gt - 1)
      pos = gt + 1
      if sub(tag, 1, 1) == "/" then
        local name = match(tag, "^/([%w_:%.%-]+)%s*$")
        local open = stack[b.depth]
        if not name or not open or open.name ~= name then
          return nil, "mismatched closing tag </" .. tostring(name or tag) .. ">"
        end
        b.close()
      else
        local selfclose = sub(tag, -1) == "/"
        if selfclose then tag = sub(tag, 1, -2) end
        local name, attrs = match(tag, "^([%a_][%w_:%.%-]*)(.*)$")
        if not name then return nil, "bad tag <" .. sub(tag, 1, 40) .. ">" end
        -- attributes are accepted (xmlns) but not used
        if attrs ~= "" and not match(attrs, "^%s") then return nil, "bad tag <" .. name .. ">" end
        local ok, e = b.open(name)
        if not ok then return nil, e end
        if selfclose then b.close() end
      end
    end
  end
  if b.depth > 0 then return nil, "unclosed element <" .. stack[b.depth].name .. ">" end
  if not b.root then return nil, "no root element" end
  return b.root
end

local lxp_mod
local function get_lxp()
  if lxp_mod == nil then
    local ok, m = pcall(require, "lxp")
    lxp_mod = ok and type(m) == "table" and m.new and m or false
  end
  return lxp_mod
end

--- The expat reader (the same tree).
-- @string xml the document
-- @treturn table the root element
-- @return[2] nil
-- @treturn[2] string why the document is refused
function _M.parse_lxp(xml)
  local lxp = get_lxp()
  if not lxp then return nil, "lxp is not available" end
  local b = builder()
  local refused
  local callbacks = {
    StartElement = function(p, name)
      if refused then return end
      local ok, e = b.open(name)
      if not ok then
        refused = e
        p:stop()
      end
    end,
    EndElement = function()
      if not refused then b.close() end
    end,
    CharacterData = function(_, s) b.text(s) end,
    -- no DTDs: refuse entity declarations (no "billion laughs")
    EntityDecl = function() refused = "entity declarations are not accepted" end,
    StartDoctypeDecl = function() refused = "DOCTYPE is not accepted" end,
  }
  local p = lxp.new(callbacks)
  local ok, msg, line = p:parse(xml)
  if ok and not refused then ok, msg, line = p:parse() end
  pcall(p.close, p)   -- close raises on an unfinished document; the parse result says why
  if refused then return nil, refused end
  if not ok then return nil, tostring(msg) .. (line and (" at line " .. line) or "") end
  if not b.root then return nil, "no root element" end
  return b.root
end

--- Reads a document with expat when it is installed, else with the built-in reader.
-- @string xml the document
-- @string[opt] how "lxp" or "builtin" to choose
-- @treturn table the root element
-- @return[2] nil
-- @treturn[2] string why the document is refused
function _M.parse(xml, how)
  if type(xml) ~= "string" or xml == "" then return nil, "empty body" end
  if how == "builtin" or (how == nil and not get_lxp()) then return _M.parse_builtin(xml) end
  return _M.parse_lxp(xml)
end

--- "lxp" when expat is installed, else "builtin".
function _M.backend()
  return get_lxp() and "lxp" or "builtin"
end

--- The first child element of `node` named `name`, or nil.
function _M.child(node, name)
  for i = 1, #node do
    local c = node[i]
    if c.name == name then return c end
  end
  return nil
end

local function flatten_into(node, prefix, map)
  local path = prefix and (prefix .. "/" .. node.name) or node.name
  if map[path] == nil then map[path] = node.text or "" end
  for i = 1, #node do flatten_into(node[i], path, map) end
end

--- A tree as a flat map "A/B/C" -> text of every element (the first element of each path wins).
-- @tparam table root
-- @treturn table
function _M.flatten(root)
  local map = {}
  flatten_into(root, nil, map)
  return map
end

return _M
