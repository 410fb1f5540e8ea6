-- invite.paginate - walks a paginated operation (boto3's paginators-1.json
-- semantics: input_token, output_token, limit_key, result_key).
--
--   for page, err in client:paginate("list_invitations", {...}) do ... end
--   for inv, err in client:each_invitation{...} do ... end
--   local all, err = client:list_all_invitations{...}
--
-- On failure an iterator yields `false, err` once and then stops, so a loop
-- body must check its first value. PaginationConfig = {MaxItems, PageSize,
-- StartingToken} works as in boto3. A token that repeats is an error
-- (a service bug would otherwise loop forever).
--
-- Lua 5.1 cannot yield from a `for` iterator: there, inside a scheduler task, a page that a `for`
-- loop asks for is fetched blocking (invite.scheduler.iterator); `list_all_*` and direct calls
-- of the iterator still yield, and every other Lua yields in all three forms.
--
-- Bounds (a hostile or broken server gets a clear PaginationError, never an endless walk):
-- at most `ctx.max_pages` pages (default 1000) and `ctx.max_items` items (default 100,000)
-- per walk, both settable as client options; a page with more items than the operation's
-- model allows (`ctx.result_max`, e.g. 50 for ListInvitations) is refused.
local errors = require "invite.errors"
local scheduler = require "invite.scheduler"
local is_integer = require("invite.validate").is_integer

local type, pairs, tostring = type, pairs, tostring

local _M = {}

_M.DEFAULT_MAX_PAGES = 1000
_M.DEFAULT_MAX_ITEMS = 100000

local function copy(t)
  local o = {}
  for k, v in pairs(t or {}) do o[k] = v end
  return o
end

-- paginate.pages(call, pag, params, ctx) -> iterator over pages.
-- call(params) -> page | nil, err performs one request of op.
function _M.pages(call, pag, params, ctx)
  params = copy(params)
  local cfg = params.PaginationConfig
  params.PaginationConfig = nil
  local bad
  if cfg ~= nil and type(cfg) ~= "table" then
    bad = "PaginationConfig: must be a table {MaxItems=, PageSize=, StartingToken=}"
  end
  cfg = cfg or {}
  for k in pairs(type(cfg) == "table" and cfg or {}) do
    if k ~= "MaxItems" and k ~= "PageSize" and k ~= "StartingToken" then
      bad = "PaginationConfig: unknown key " .. tostring(k) .. " (valid: MaxItems, PageSize, StartingToken)"
    end
  end
  if cfg.MaxItems ~= nil and not (is_integer(cfg.MaxItems) and cfg.MaxItems >= 1) then
    bad = "PaginationConfig.MaxItems: must be an integer >= 1, got " .. tostring(cfg.MaxItems)
  end
  if bad then
    local yielded = false
    return function() -- no I/O: nothing to yield, on any Lua
      if yielded then return nil end
      yielded = true
      return false, errors.client("ValidationError", (ctx and ctx.where or "paginate") .. ": " .. bad, ctx)
    end
  end
  if cfg.PageSize then params[pag.limit_key] = cfg.PageSize end
  if cfg.StartingToken then params[pag.input_token] = cfg.StartingToken end
  local max_items = cfg.MaxItems
  local page_limit = ctx and ctx.max_pages or _M.DEFAULT_MAX_PAGES
  local item_limit = ctx and ctx.max_items or _M.DEFAULT_MAX_ITEMS
  local result_max = ctx and ctx.result_max
  local items, pages, walked = 0, 0, 0
  local done = false
  local seen = {}
  local function fail(message)
    done = true
    return false, errors.client("PaginationError", message, ctx)
  end
  local pending
  return scheduler.iterator(function()
    if pending then
      local message = pending
      pending = nil
      return fail(message)
    end
    if done then return nil end
    local page, err = call(params)
    if not page then
      done = true
      return false, err
    end
    pages = pages + 1
    local list = page[pag.result_key]
    local n = type(list) == "table" and #list or 0
    if result_max and n > result_max then
      return fail(("page %d has %d %s; the model allows at most %d per page (a broken or hostile server)")
        :format(pages, n, pag.result_key, result_max))
    end
    walked = walked + n
    if walked > item_limit then
      return fail(("the service returned more than %d items (max_items); stopped after %d pages")
        :format(item_limit, pages))
    end
    if max_items and type(list) == "table" then
      local room = max_items - items
      if #list >= room then
        for i = #list, room + 1, -1 do list[i] = nil end
        done = true
      end
      items = items + #list
    end
    local token = page[pag.output_token]
    if token == nil or token == "" then
      done = true
    elseif pages >= page_limit then
      -- this page is handed out; the walk ends with the error instead of fetching one more
      pending = ("the service returned more than %d pages (max_pages): page %d still had a NextToken")
        :format(page_limit, pages)
    elseif seen[token] then
      return fail("the service returned the same pagination token twice: " .. tostring(token))
    else
      seen[token] = true
      params[pag.input_token] = token
    end
    return page
  end)
end

-- paginate.items(pages_iter, pag) -> iterator over result_key items.
function _M.items(pages, pag)
  local page, i = nil, 0
  local finished = false
  return scheduler.iterator(function()
    while not finished do
      if page then
        i = i + 1
        local list = page[pag.result_key]
        if type(list) == "table" and list[i] ~= nil then return list[i] end
      end
      local p, err = pages()
      if p == nil then finished = true; return nil end
      if p == false then finished = true; return false, err end
      page, i = p, 0
    end
    return nil
  end)
end

-- paginate.all(pages_iter, pag) -> array of every item | nil, err
function _M.all(pages, pag)
  local out = {}
  while true do -- not `for page in pages`: Lua 5.1 cannot yield from a for iterator
    local page, err = pages()
    if page == nil then break end
    if not page then return nil, err end
    local list = page[pag.result_key]
    if type(list) == "table" then
      for i = 1, #list do out[#out + 1] = list[i] end
    end
  end
  return out
end

return _M
