-- invite.batch - splits a decline/delete call with many account IDs into calls
-- of at most `size` IDs (50: GuardDuty's hard limit, used for all three so a
-- single call never exceeds what any of them accepts) and merges the answers.
--
-- Duplicate IDs are sent once, in first-seen order. The merged response has
-- the unprocessed lists of every batch concatenated in order, and its
-- ResponseMetadata carries the first batch's RequestId, every RequestId in
-- RequestIds, the number of Batches and the total RetryAttempts.
local type, pairs, ipairs = type, pairs, ipairs

local _M = {}

-- True when the n IDs of the list are all different (nil never is).
local function all_unique(ids, n)
  if n <= 8 then
    for i = 1, n do
      local id = ids[i]
      if id == nil then return false end
      for j = 1, i - 1 do
        if ids[j] == id then return false end
      end
    end
    return true
  end
  local seen = {}
  for i = 1, n do
    local id = ids[i]
    if id == nil or seen[id] then return false end
    seen[id] = true
  end
  return true
end

-- batch.split(spec, params) -> array of parameter tables: params itself when its IDs are all
-- different and fit one batch (the common call: nothing to copy), else shallow copies.
-- spec = {member = "AccountIds", size = 50}.
function _M.split(spec, params)
  local ids = params[spec.member]
  local n = #ids
  if n > 0 and n <= (spec.size or 50) and all_unique(ids, n) then return { params } end
  local seen, unique = {}, {}
  for _, id in ipairs(ids) do
    if not seen[id] then
      seen[id] = true
      unique[#unique + 1] = id
    end
  end
  local out = {}
  local size = spec.size or 50
  for first = 1, #unique, size do
    local p = {}
    for k, v in pairs(params) do p[k] = v end
    local chunk = {}
    for i = first, math.min(first + size - 1, #unique) do chunk[#chunk + 1] = unique[i] end
    p[spec.member] = chunk
    out[#out + 1] = p
  end
  return out
end

-- batch.merge(spec, responses) -> one response.
function _M.merge(spec, responses)
  if #responses == 1 then return responses[1] end
  local merged = {}
  local key = spec.merge
  local list, has_list = {}, false
  local ids, retries = {}, 0
  for _, r in ipairs(responses) do
    for k, v in pairs(r) do
      if k ~= key and k ~= "ResponseMetadata" and merged[k] == nil then merged[k] = v end
    end
    if type(r[key]) == "table" then
      has_list = true
      for _, e in ipairs(r[key]) do list[#list + 1] = e end
    end
    local md = r.ResponseMetadata or {}
    ids[#ids + 1] = md.RequestId or ""
    retries = retries + (md.RetryAttempts or 0)
  end
  if has_list then merged[key] = list end
  local first = responses[1].ResponseMetadata or {}
  merged.ResponseMetadata = {
    RequestId = first.RequestId,
    HTTPStatusCode = first.HTTPStatusCode,
    HTTPHeaders = first.HTTPHeaders,
    RetryAttempts = retries,
    RequestIds = ids,
    Batches = #responses,
  }
  return merged
end

return _M
