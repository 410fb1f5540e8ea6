-- bench/report.lua - turn bench/run.sh's raw lines into bench/RESULTS.md.
--
--   lua5.4 bench/report.lua RAW > RESULTS.md
--
-- RAW holds the lines the benchmarks printed, collected by bench/run.sh in one run:
--   result KEY min=X median=X max=X rounds=N iterations=N [k=v ...]   (a timing)
--   rss KEY kb=N [k=v ...]                                            (a peak RSS, /usr/bin/time %M)
--   info KEY free text                                                (machine, versions, notes)
--   skip KEY reason                                                   (a peer that could not run)
-- Every ratio below is computed from numbers of this one RAW file, i.e. one run on one machine.
local RAW = assert(arg[1], "usage: lua5.4 bench/report.lua RAW")

local results, rss, info, skips, skip_order = {}, {}, {}, {}, {}
local runs = {} -- key -> every result line of that key (bench/run.sh interleaves some benchmarks)
for line in io.lines(RAW) do
  local kind, key, rest = line:match("^(%a+) (%S+)%s*(.*)$")
  if kind == "result" or kind == "rss" then
    local t = {}
    for k, v in rest:gmatch("([%w_]+)=(%S+)") do t[k] = tonumber(v) or v end
    if kind == "result" then
      runs[key] = runs[key] or {}
      table.insert(runs[key], t)
    else
      rss[key] = t
    end
  elseif kind == "info" then
    info[key] = rest
  elseif kind == "skip" then
    if not skips[key] then skip_order[#skip_order + 1] = key end
    skips[key] = rest
  end
end

-- A key measured by several interleaved processes (one round each): min / median / max over those
-- rounds' medians; otherwise the line as it is.
for key, list in pairs(runs) do
  if #list == 1 then
    results[key] = list[1]
  else
    local m = {}
    for i, t in ipairs(list) do m[i] = t.median end
    table.sort(m)
    local t = {}
    for k, v in pairs(list[1]) do t[k] = v end
    t.min, t.median, t.max, t.rounds = m[1], m[math.floor(#m / 2) + 1], m[#m], #m
    results[key] = t
  end
end

local out = {}
local function w(...) out[#out + 1] = table.concat({ ... }) end

local function num(x, unit)
  if x == nil then return "-" end
  if unit == "ms" then
    if x >= 100 then return ("%.0f"):format(x) end
    return ("%.1f"):format(x)
  end
  if x >= 1000 then return ("%.0f"):format(x) end
  if x >= 100 then return ("%.0f"):format(x) end
  if x >= 10 then return ("%.1f"):format(x) end
  return ("%.2f"):format(x)
end

local function triple(key, unit, scale)
  local r = results[key]
  if not r then return "-", "-", "-" end
  scale = scale or 1
  return num(r.min * scale, unit), num(r.median * scale, unit), num(r.max * scale, unit)
end

local function median(key, scale)
  local r = results[key]
  return r and r.median * (scale or 1) or nil
end

local function ratio(a, b)
  if not a or not b or b == 0 then return "-" end
  return ("%.2fx"):format(a / b)
end

local function why_missing(key)
  return skips[key] and ("skipped (" .. skips[key] .. ")") or "not measured (see the log)"
end

-- target rows: { what, measured text, met? }
local targets = {}
local function target(what, goal, value, text, ok)
  local verdict
  if value == nil then verdict = "not measured" elseif ok then verdict = "**met**" else verdict = "**missed**" end
  targets[#targets + 1] = ("| %s | %s | %s | %s |"):format(what, goal, value == nil and "-" or text, verdict)
end

---------------------------------------------------------------------------------------------------
w("# Benchmark results")
w("")
w("Written by `bench/run.sh", info.mode == "quick" and " --quick" or "", "` on ", info.date or "?",
  "; every number and ratio below comes from this one run on this machine (rerun it to refresh, do not")
w("edit by hand). Times are per operation; min / median / max are over the rounds of each benchmark;")
w("signing and loopback benchmarks run as interleaved rounds (one process per peer per round, peers in turn),",
  " so a burst of load on the machine falls on all of them alike; ratios use medians.",
  info.mode == "quick" and " **Quick mode: few iterations, numbers are indicative only.**"
  or "")
w("")
w("## Machine and versions")
w("")
w("| | |")
w("|---|---|")
for _, k in ipairs({ "cpu", "cores", "kernel", "load_start", "load_end", "lua54", "luajit", "python3", "botocore",
                     "aws", "curl", "nginx", "node", "npm", "node_aws4", "node_smithy", "openssl", "cc", "git" }) do
  if info[k] then w("| ", k, " | ", info[k], " |") end
end
w("")

---------------------------------------------------------------------------------------------------
-- targets first, computed from the sections below
local sign54, signjit = median("sign-5.4-no-token"), median("sign-luajit-no-token")
target("signing, Lua 5.4, no token", "<= 1.2 us", sign54, num(sign54 and sign54 / 1000) .. " us",
  sign54 and sign54 <= 1200)
target("signing, LuaJIT, no token", "<= 1.2 us", signjit, num(signjit and signjit / 1000) .. " us",
  signjit and signjit <= 1200)
for _, vm in ipairs({ "5.4", "luajit" }) do
  local m = median("sign-" .. vm .. "-headers-no-token")
  if m then
    target("signing, " .. (vm == "5.4" and "Lua 5.4" or "LuaJIT") .. ", no token, `sign_headers` (headers only)",
      "<= 1.2 us", m, num(m / 1000) .. " us", m <= 1200)
  end
end
local d54, djit = median("decline-5.4"), median("decline-luajit")
local floor_http, boto = median("http-floor-signed"), median("decline-boto3")
target("loopback decline, Lua 5.4", "<= 70 us", d54, num(d54) .. " us", d54 and d54 <= 70)
target("loopback decline, LuaJIT", "<= 70 us", djit, num(djit) .. " us", djit and djit <= 70)
target("loopback decline, Lua 5.4 / bare libcurl loop", "<= 1.55x", d54 and floor_http, ratio(d54, floor_http),
  d54 and floor_http and d54 / floor_http <= 1.55)
target("loopback decline, LuaJIT / bare libcurl loop", "<= 1.55x", djit and floor_http, ratio(djit, floor_http),
  djit and floor_http and djit / floor_http <= 1.55)
target("loopback decline, boto3 / Lua 5.4", ">= 10x", d54 and boto, ratio(boto, d54), d54 and boto and boto / d54 >= 10)
target("loopback decline, boto3 / LuaJIT", ">= 10x", djit and boto, ratio(boto, djit),
  djit and boto and boto / djit >= 10)
local cli = median("cli-invite-5.4")
target("one-shot CLI `bin/invite decline` (lua5.4), wall", "<= 15 ms", cli, num(cli, "ms") .. " ms", cli and cli <= 15)
for _, vm in ipairs({ "5.4", "luajit" }) do
  local name = vm == "5.4" and "lua5.4" or "luajit"
  local rq, cl = median("require-" .. vm .. "-require"), median("require-" .. vm .. "-client")
  target("`require \"invite\"` (" .. name .. ", in-process CPU time)", "<= 5 ms", rq, num(rq, "ms") .. " ms",
    rq and rq <= 5)
  target("`require \"invite\"` + first `guardduty.client{}` (" .. name .. ", in-process CPU time)", "<= 5 ms",
    rq and cl, num(rq and cl and rq + cl, "ms") .. " ms", rq and cl and rq + cl <= 5)
end
local r54 = rss["calls2000-5.4"] and rss["calls2000-5.4"].kb
target("peak RSS over 2000 decline calls, Lua 5.4", "<= 10 MB", r54, num(r54 and r54 / 1024) .. " MB",
  r54 and r54 <= 10 * 1024)
local rjit = rss["calls2000-luajit"] and rss["calls2000-luajit"].kb
target("peak RSS over 2000 decline calls, LuaJIT", "<= 10 MB", rjit, num(rjit and rjit / 1024) .. " MB",
  rjit and rjit <= 10 * 1024)
local sw54, swjit = median("sweep-5.4-c51"), median("sweep-luajit-c51")
target("51-scope sweep, invite.run, all scopes concurrent (Lua 5.4)", "<= 0.25 s", sw54,
  num(sw54 and sw54 / 1000) .. " s", sw54 and sw54 <= 250)
target("51-scope sweep, invite.run, all scopes concurrent (LuaJIT)", "<= 0.25 s", swjit,
  num(swjit and swjit / 1000) .. " s", swjit and swjit <= 250)
local sw8 = median("sweep-5.4-c32")
target("51-scope sweep, invite.run, default concurrency 32 (Lua 5.4)", "<= 0.25 s", sw8,
  num(sw8 and sw8 / 1000) .. " s", sw8 and sw8 <= 250)
local swcli = median("sweep-cli-c51")
target("51-scope sweep, `bin/invite list --concurrency 51` (whole process)", "<= 0.25 s", swcli,
  num(swcli and swcli / 1000) .. " s", swcli and swcli <= 250)

w("## Targets (issue 9)")
w("")
w("| what | target | measured (median) | |")
w("|---|---|---|---|")
for _, t in ipairs(targets) do w(t) end
w("")

---------------------------------------------------------------------------------------------------
w("## Signing: ns per SigV4 signature")
w("")
w("GuardDuty DeclineInvitations (`POST /invitation/decline`, us-east-1, Host + Content-Type, JSON body).",
  " Each peer first checks that it produces the known signature of this request.")
w("")
w("| signer | no token: min / median / max | with token: min / median / max | median / C floor (no token) |")
w("|---|---|---|---|")
local floor_sign = median("sign-floor-no-token")
local SIGNERS = {
  { "C floor: `sigv4_sign` loop (src/sigv4.c, OpenSSL 3)", "sign-floor" },
  { "invite, Lua 5.4 (`invite.sigv4.sign`)", "sign-5.4" },
  { "invite, LuaJIT (`invite.sigv4.sign`)", "sign-luajit" },
  { "botocore `SigV4Auth.add_auth` (python3)", "botocore" },
  { "npm `aws4` (node)", "node-aws4" },
  { "npm `@smithy/signature-v4` (node, awaited)", "node-smithy" },
}
for _, s in ipairs(SIGNERS) do
  local k = s[2]
  if results[k .. "-no-token"] then
    local a, b, c = triple(k .. "-no-token")
    local d, e, f = triple(k .. "-token")
    w("| ", s[1], " | ", a, " / ", b, " / ", c, " | ", d, " / ", e, " / ", f, " | ",
      ratio(median(k .. "-no-token"), floor_sign), " |")
  else
    w("| ", s[1], " | ", why_missing(k), " | | |")
  end
end
for _, vm in ipairs({ "5.4", "luajit" }) do
  local k = "sign-" .. vm .. "-headers"
  if results[k .. "-no-token"] then
    local a, b, c = triple(k .. "-no-token")
    local d, e, f = triple(k .. "-token")
    w("| invite, ", vm == "5.4" and "Lua 5.4" or "LuaJIT", " (`invite.sigv4.sign_headers`: headers only, as the",
      " clients sign) | ", a, " / ", b, " / ", c, " | ", d, " / ", e, " / ", f, " | ",
      ratio(median(k .. "-no-token"), floor_sign), " |")
  end
end
for _, vm in ipairs({ "5.4", "luajit" }) do
  local k = "sign-" .. vm .. "-no-token-fresh-opts"
  if results[k] then
    local a, b, c = triple(k)
    w("| invite, ", vm == "5.4" and "Lua 5.4" or "LuaJIT", ", options table built per call | ", a, " / ", b, " / ", c,
      " | | ", ratio(median(k), floor_sign), " |")
  end
end
w("")

---------------------------------------------------------------------------------------------------
w("## One DeclineInvitations call on loopback, keep-alive: us per call")
w("")
w("Against one nginx (", info.nginx_note or "started by bench/run.sh",
  ") answering `200 {\"unprocessedAccounts\":[]}`; one client per process, connection kept alive;",
  " every response checked.")
w("")
w("| client | min | median | max | median / bare libcurl | boto3 median / this |")
w("|---|---|---|---|---|---|")
local DECL = {
  { "invite, Lua 5.4: `guardduty.client{endpoint=...}:decline_invitations`", "decline-5.4" },
  { "invite, LuaJIT: same", "decline-luajit" },
  { "boto3 (python3): `client.decline_invitations`", "decline-boto3" },
  { "bare libcurl loop (bench/http_floor.c), same signed-size headers", "http-floor-signed" },
  { "`curl --aws-sigv4` CLI, N requests in one process (wall / N, includes startup / N)", "curl-cli" },
  { "part: invite.core `h:request` of a pre-signed request, Lua 5.4", "decline-5.4-request" },
  { "part: invite.core `h:request` of a pre-signed request, LuaJIT", "decline-luajit-request" },
  { "part: signing that request (`sign_headers`, else `sign`), Lua 5.4", "decline-5.4-sign" },
  { "part: signing that request (`sign_headers`, else `sign`), LuaJIT", "decline-luajit-sign" },
}
for _, d in ipairs(DECL) do
  if results[d[2]] then
    local a, b, c = triple(d[2])
    w("| ", d[1], " | ", a, " | ", b, " | ", c, " | ", ratio(median(d[2]), floor_http), " | ",
      ratio(boto, median(d[2])), " |")
  else
    w("| ", d[1], " | ", why_missing(d[2]), " | | | | |")
  end
end
w("")
for _, vm in ipairs({ "5.4", "luajit" }) do
  local k = "decline-" .. vm .. "-pipeline"
  if results[k] then
    local a, b, c = triple(k)
    w("Client pipeline cost per call, ", vm == "5.4" and "Lua 5.4" or "LuaJIT", " (per round: the call minus",
      " `h:request` minus signing, measured in the same process): min ", a, " / median ", b, " / max ", c, " us.")
  end
end
if info.curl_reuse then w("`curl --aws-sigv4` connection reuse check: ", info.curl_reuse, ".") end
if results["curl-cli-1"] then
  w("`curl --aws-sigv4` with 1 request (process startup + 1 call): median ", num(median("curl-cli-1"), "ms"), " ms",
    results["curl-cli-ms"] and info.curl_n and (
      "; without that startup, each of the N requests takes about "
      .. num((median("curl-cli-ms") - median("curl-cli-1")) * 1000 / (tonumber(info.curl_n) - 1))
      .. " us ((N-request median - 1-request median) / (N - 1))") or "", ".")
end
w("")

---------------------------------------------------------------------------------------------------
w("## One-shot CLI decline: wall ms per process")
w("")
w("`bin/invite decline --service guardduty --region us-east-1 --endpoint-url NGINX 111122223333` vs",
  " `/usr/bin/aws guardduty decline-invitations --account-ids 111122223333 --endpoint-url NGINX`",
  " (static fake keys in the environment, empty config files; fork to exit, no shell).")
w("")
w("| command | min | median | max | / invite (lua5.4) |")
w("|---|---|---|---|---|")
local CLIS = {
  { "`bin/invite decline` under lua5.4", "cli-invite-5.4" },
  { "`bin/invite decline` under luajit", "cli-invite-luajit" },
  { "`/usr/bin/aws guardduty decline-invitations`", "cli-aws" },
}
for _, c in ipairs(CLIS) do
  if results[c[2]] then
    local a, b, cc = triple(c[2], "ms")
    w("| ", c[1], " | ", a, " | ", b, " | ", cc, " | ", ratio(median(c[2]), cli), " |")
  else
    w("| ", c[1], " | ", why_missing(c[2]), " | | | |")
  end
end
w("")

---------------------------------------------------------------------------------------------------
w("## Startup and memory")
w("")
w("Wall ms of whole processes (fork to exit); \"cost\" is the min minus the bare interpreter's min (the min, as",
  " scheduling noise only ever adds to a process's time). Peak RSS is `/usr/bin/time -f %M` of the same command.")
w("")
w("| command | min | median | max | cost (ms) | peak RSS (MB) |")
w("|---|---|---|---|---|---|")
local STARTS = {
  { "`lua5.4 -e ''` (bare)", "start-5.4-empty", "start-5.4-empty" },
  { "`lua5.4`: `require \"invite\"`", "start-5.4-require", "start-5.4-empty" },
  { "`lua5.4`: `require \"invite\"` + first `guardduty.client{}`", "start-5.4-client", "start-5.4-empty" },
  { "`luajit -e ''` (bare)", "start-luajit-empty", "start-luajit-empty" },
  { "`luajit`: `require \"invite\"`", "start-luajit-require", "start-luajit-empty" },
  { "`luajit`: `require \"invite\"` + first `guardduty.client{}`", "start-luajit-client", "start-luajit-empty" },
  { "`python3 -c pass` (bare)", "start-python-empty", "start-python-empty" },
  { "`python3 -c \"import boto3\"`", "start-python-boto3", "start-python-empty" },
  { "`python3`: `import boto3` + first `boto3.client(\"guardduty\")`", "start-python-client", "start-python-empty" },
}
for _, s in ipairs(STARTS) do
  local r = rss[s[2]]
  if results[s[2]] then
    local a, b, c = triple(s[2], "ms")
    local cost = s[2] ~= s[3] and results[s[3]] and num(results[s[2]].min - results[s[3]].min, "ms") or ""
    w("| ", s[1], " | ", a, " | ", b, " | ", c, " | ", cost, " | ", r and num(r.kb / 1024) or "-", " |")
  else
    w("| ", s[1], " | ", why_missing(s[2]), " | | | | |")
  end
end
w("")
w("Inside a fresh process (CPU time, `os.clock` / `time.process_time`, so waiting for a busy CPU does not",
  " count; bench/require.lua, bench/require_boto3.py), ms:")
w("")
w("| step | min | median | max |")
w("|---|---|---|---|")
for _, r in ipairs({ { "lua5.4: `require \"invite\"`", "require-5.4-require" },
                     { "lua5.4: then the first `guardduty.client{}`", "require-5.4-client" },
                     { "luajit: `require \"invite\"`", "require-luajit-require" },
                     { "luajit: then the first `guardduty.client{}`", "require-luajit-client" },
                     { "python3: `import boto3`", "require-boto3-require" },
                     { "python3: then the first `boto3.client(\"guardduty\")`", "require-boto3-client" } }) do
  if results[r[2]] then
    local a, b, c = triple(r[2], "ms")
    w("| ", r[1], " | ", a, " | ", b, " | ", c, " |")
  else
    w("| ", r[1], " | ", why_missing(r[2]), " | | |")
  end
end
w("")
w("Peak RSS of one process making 2000 decline calls to nginx (`/usr/bin/time -f %M`), and its resident",
  " set after the first call and after the last (from /proc/self/status), to tell growth from baseline:")
w("")
w("| process | peak RSS (MB) | RSS after call 1 (MB) | RSS after call 2000 (MB) |")
w("|---|---|---|---|")
for _, p in ipairs({ { "invite, lua5.4", "calls2000-5.4" }, { "invite, luajit", "calls2000-luajit" },
                     { "boto3, python3", "calls2000-boto3" } }) do
  local r = rss[p[2]]
  if r then
    w("| ", p[1], " | ", num(r.kb / 1024), " | ", r.before_rss_kb and num(r.before_rss_kb / 1024) or "-", " | ",
      r.after_rss_kb and num(r.after_rss_kb / 1024) or "-", " |")
  else
    w("| ", p[1], " | ", why_missing(p[2]), " | | |")
  end
end
if rss["core-5.4"] then
  w("")
  w("For reference: `lua5.4 -e 'require \"invite.core\"'` (libcurl + OpenSSL loaded, nothing else) peaks at ",
    num(rss["core-5.4"].kb / 1024), " MB; bare `lua5.4 -e ''` at ",
    rss["start-5.4-empty"] and num(rss["start-5.4-empty"].kb / 1024) or "-", " MB.")
end
w("")

---------------------------------------------------------------------------------------------------
w("## 51-scope sweep against the simulator: ms per sweep")
w("")
w("3 services x 17 regions, `invite sim` on examples/fixtures/org.json with fault `latency=50` (every",
  " response held 50 ms), plan only (`apply = false`, a policy that keeps everything).")
w("")
w("| runner | concurrency | min | median | max | simulator requests per sweep | invitations |")
w("|---|---|---|---|---|---|---|")
for _, vm in ipairs({ "5.4", "luajit" }) do
  for _, c in ipairs({ 51, 32, 1 }) do
    local k = "sweep-" .. vm .. "-c" .. c
    local r = results[k]
    local label = "`invite.run`, " .. (vm == "5.4" and "Lua 5.4" or "LuaJIT")
    if r then
      local a, b, cc = triple(k, "ms")
      w("| ", label, " | ", c, c == 32 and " (default)" or "", " | ", a, " | ", b, " | ", cc, " | ",
        tostring(r.requests or "-"), " | ", tostring(r.invitations or "-"), " |")
    else
      w("| ", label, " | ", c, " | ", why_missing(k), " | | | | |")
    end
  end
end
for _, c in ipairs({ 51, 32, 1 }) do
  local k = "sweep-cli-c" .. c
  local label = "`bin/invite list` (lua5.4, whole process)"
  if results[k] then
    local a, b, cc = triple(k, "ms")
    w("| ", label, " | ", c, c == 32 and " (default)" or "", " | ", a, " | ", b, " | ", cc, " | | |")
  else
    w("| ", label, " | ", c, " | ", why_missing(k), " | | | | |")
  end
end
local longest = results["sweep-5.4-c51"] and results["sweep-5.4-c51"].longest_scope
if longest then
  w("")
  w("The slowest scope needs ", longest, " requests one after the other (pages), so no sweep can take less than ",
    longest * 50, " ms here.")
end
if median("sweep-5.4-c1") and sw54 then
  w("")
  w("Sequential / all-concurrent (Lua 5.4): ", ratio(median("sweep-5.4-c1"), sw54), ".")
end
w("")

---------------------------------------------------------------------------------------------------
-- bench/inventory.lua (issue 18): printed only when the run has its lines
local inv_keys = {}
for _, vm in ipairs({ "5.4", "luajit" }) do
  for _, c in ipairs({ 86, 32, 1 }) do
    inv_keys[#inv_keys + 1] = { "inventory-" .. vm .. "-six-c" .. c, vm, "six", c }
  end
  for _, c in ipairs({ 51, 32, 1 }) do
    inv_keys[#inv_keys + 1] = { "inventory-" .. vm .. "-three-c" .. c, vm, "three", c }
  end
end
for _, m in ipairs({ "threads32", "seq", "sessions32" }) do
  inv_keys[#inv_keys + 1] = { "inventory-boto3-" .. m, "boto3", m }
end
local any_inv = false
for _, k in ipairs(inv_keys) do any_inv = any_inv or results[k[1]] ~= nil end
if any_inv then
  local b3 = results["inventory-boto3-threads32"] or results["inventory-boto3-seq"]
  w("## Six-kind inventory against the simulator (issue 18): ms per sweep")
  w("")
  w("`bench/inventory.lua`: the fixture's prod account, `invite sim` on examples/fixtures/org.json with fault",
    " `latency=50` (every response held 50 ms), plan only. Six kinds: Macie, Security Hub, GuardDuty, Detective",
    " and RAM x the 17 regions above, Organizations once (86 scopes; Detective has no ap-northeast-3 endpoint,",
    " so invite's region table skips it and boto3's `get_available_regions` leaves it out: 85 swept). Three",
    " kinds: Macie, Security Hub, GuardDuty x 17 (51). boto3 (", b3 and tostring(b3.boto3) or "?", ", ",
    b3 and tostring(b3.python) or "?", "): bench/inventory_boto3.py, the same",
    " simulator, `endpoint_url`, paginators (Detective: a NextToken loop); the timed sweep includes",
    " making its clients, as invite.run's does.")
  w("")
  w("| runner | kinds (scopes swept) | concurrency | min | median | max | simulator requests per sweep | invitations |")
  w("|---|---|---|---|---|---|---|---|")
  for _, k in ipairs(inv_keys) do
    local r = results[k[1]]
    local label, kinds, conc
    if k[2] == "boto3" then
      label = ({ threads32 = "boto3, clients made first, ThreadPoolExecutor",
                 seq = "boto3, one loop (the usual script)",
                 sessions32 = "boto3, a Session per worker thread" })[k[3]]
      kinds, conc = "six", ({ threads32 = "32 threads", seq = "1", sessions32 = "32 threads" })[k[3]]
    else
      label = "`invite.run`, " .. (k[2] == "5.4" and "Lua 5.4" or "LuaJIT")
      kinds, conc = k[3], tostring(k[4]) .. (k[4] == 32 and " (default)" or "")
    end
    if r then
      local a, b, c = triple(k[1], "ms")
      w("| ", label, " | ", kinds, " (", tostring(r.scopes or "-"), ") | ", conc, " | ", a, " | ", b, " | ", c, " | ",
        tostring(r.requests or "-"), " | ", tostring(r.invitations or "-"), " |")
    elseif k[3] ~= "sessions32" then
      w("| ", label, " | ", kinds, " | ", conc, " | ", why_missing(k[1]), " | | | | |")
    end
  end
  local six, six32 = median("inventory-5.4-six-c86"), median("inventory-5.4-six-c32")
  local three = median("inventory-5.4-three-c51")
  local seq, thr = median("inventory-boto3-seq"), median("inventory-boto3-threads32")
  local ri = results["inventory-5.4-six-c86"] or results["inventory-luajit-six-c86"]
  w("")
  if ri and b3 and ri.requests and b3.requests then
    w("invite.run makes ", ri.requests - b3.requests, " request(s) per six-kind sweep more than the boto3 script: STS",
      " GetCallerIdentity (who am I, before the sweep) and, for RAM, Organizations ListAccounts (is the sharing",
      " account inside the organisation?) and ListPendingInvitationResources per PENDING share (its resource",
      " types), which its records carry and the boto3 script does not ask for. The longest chain is four",
      " requests one after the other (who am I, a RAM list, ListAccounts, the share's resources; or who am I",
      " and Macie's three pages in us-east-1), so no six-kind invite.run sweep takes less than 200 ms here.")
    w("")
  end
  if six and three then
    w("Six kinds / three kinds, all scopes concurrent (Lua 5.4): ", ratio(six, three), ".")
  end
  if six32 and seq then
    w("boto3's loop / invite.run at its default concurrency 32 (Lua 5.4): ", ratio(seq, six32), ".")
  end
  if six32 and thr then
    w("boto3 with 32 threads / invite.run at its default concurrency 32 (Lua 5.4): ", ratio(thr, six32), ".")
  end
  w("")
end

---------------------------------------------------------------------------------------------------
if #skip_order > 0 then
  w("## Skipped")
  w("")
  for _, k in ipairs(skip_order) do w("- ", k, ": ", skips[k]) end
  w("")
end

w("## How each number is measured")
w("")
w("- Signing: `bench/sign.lua` (Lua 5.4 and LuaJIT, `invite.core.monotime`), `build/bench/sign_floor`",
  " (bench/sign_floor.c), `bench/sign_botocore.py` (`time.perf_counter_ns`), `bench/node/sign.js`",
  " (`process.hrtime.bigint`); iterations per round are in the raw log. aws4 gets a fresh request",
  " object per call and also signs the Content-Length header it adds.")
w("- Loopback: `bench/decline.lua`, `bench/decline_boto3.py`, `build/bench/http_floor post ... -H ...`",
  " (headers of a real invite-signed request: Host, Content-Type, X-Amz-Date, Authorization,",
  " User-Agent), and `curl -K` with N `next`-separated requests (",
  info.curl_n or "?", " per process) timed by `build/bench/spawn`. Inside bench/decline.lua the call, the bare",
  " `h:request` and the signing run in turns of 50 calls, so the per-round pipeline cost compares like with like.")
w("- CLI and startup: `build/bench/spawn` (bench/spawn.c: fork/execvp, waitpid, CLOCK_MONOTONIC,",
  " exit status checked). RSS: `/usr/bin/time -f %M`.")
w("- Sweep: `bench/sweep.lua` (`invite.run`), and `bin/invite list --concurrency N --quiet` timed by spawn.")
w("- Inventory: `bench/inventory.lua` (`invite.run`, `invite.core.monotime`) and `bench/inventory_boto3.py`",
  " (`time.perf_counter_ns`, run by bench/inventory.lua against its simulator); requests from the simulator's",
  " request log.")
w("")

io.write(table.concat(out, "\n"), "\n")
