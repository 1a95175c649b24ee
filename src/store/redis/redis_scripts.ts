/**
 * The rate-limiting algorithms as Lua scripts for Redis, one per algorithm plus one for several
 * limits at once, each deciding one request atomically on one key (so they run unchanged on
 * Redis Cluster).
 *
 * Every script takes `KEYS[1]` (the key) and `ARGV = [cost, consume ("1" | "0"), now (ms, or
 * "" for the server's own `TIME`), ...the algorithm's numbers]`, and answers
 * `[allowed (1 | 0), remaining, retryAfterMs, resetAfterMs]` (followed by the same four for
 * each limit in {@linkcode MULTI_LIMIT_SCRIPT}), the numbers as strings so that fractions
 * survive (or as integers where they are whole by construction). The state is a string of
 * comma-separated numbers written with 17 significant digits (`;` between the limits of a
 * composite), so each script computes exactly what the TypeScript `decide()` computes; the key
 * expires (`PX`) when it is back to full capacity, so idle keys vanish (a minute later when the
 * caller supplied the time, as Redis expires keys on its own clock). {@linkcode GCRA_SCRIPT} also
 * takes a shorter form, answers it shorter, and lets its keys expire at the end of a second.
 *
 * @module
 */

// Shared head: arguments, time, state coding, and the helpers to save and answer.
const PRELUDE = `
local SLACK = 1e-9
local cost = tonumber(ARGV[1])
local consume = ARGV[2] == "1"
local now = tonumber(ARGV[3])
-- With the caller's time, Redis's expiry runs on another clock: keep a minute of margin.
local margin = 60000
if now == nil then
  margin = 0
  local t = redis.call("TIME")
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
local function num(x) return string.format("%.17g", x) end
local function split(text, sep)
  local parts, from = {}, 1
  while true do
    local at = string.find(text, sep, from, true)
    if at == nil then
      parts[#parts + 1] = string.sub(text, from)
      return parts
    end
    parts[#parts + 1] = string.sub(text, from, at - 1)
    from = at + 1
  end
end
local function decode(text)
  if text == nil or text == "" then return nil end
  local values = {}
  for i, part in ipairs(split(text, ",")) do
    values[i] = tonumber(part)
    if values[i] == nil then return nil end
  end
  return values
end
-- A state of the wrong shape (the prefix served another algorithm before) counts as none.
local SIZES = { gcra = 1, tokenBucket = 2, leakyBucket = 2, fixedWindow = 2 }
local function fits(name, s)
  if s == nil then return nil end
  local size = SIZES[name]
  if (size ~= nil and #s ~= size) or (size == nil and #s % 2 ~= 0) then return nil end
  return s
end
local function encode(values)
  if values == nil then return "" end
  local parts = {}
  for i = 1, #values do parts[i] = num(values[i]) end
  return table.concat(parts, ",")
end
local function save(text, ttl)
  if not consume then return end
  if ttl <= 0 or text == "" then
    redis.call("DEL", KEYS[1])
  else
    redis.call("SET", KEYS[1], text, "PX", math.ceil(ttl + margin))
  end
end
local function params(from, count)
  local p = {}
  for i = 1, count do p[i] = tonumber(ARGV[from + i - 1]) end
  return p
end
`;

// Each step mirrors the TypeScript decide(): (state, now, cost, params) ->
// allowed, state to keep, remaining, retryAfterMs, resetAfterMs (the time until idle). A state
// dated after `now` (the clock stepped back) is restated at `now`, at most empty, as a new
// table; the state to keep is the very table passed in when nothing changed, so that a denial
// writes nothing unless it restated.
const GCRA_STEP = `
local function gcra(s, now, cost, p)
  local interval, tolerance = p[1], p[2]
  local slack = interval * SLACK
  local base = now
  if s ~= nil and s[1] >= now then
    if s[1] - now > tolerance + slack then s = { now + tolerance } end
    base = s[1]
  end
  local nxt = base + cost * interval
  if nxt - now <= tolerance + slack then
    local kept = s
    if cost > 0 then kept = { nxt } end
    return true, kept, math.floor((tolerance - (nxt - now)) / interval + SLACK), 0, nxt - now
  end
  return false, s, math.max(0, math.floor((tolerance - (base - now)) / interval + SLACK)),
    nxt - tolerance - now, base - now
end
`;

const TOKEN_BUCKET_STEP = `
local function tokenBucket(s, now, cost, p)
  local interval, burst = p[1], p[2]
  local tokens = burst
  if s ~= nil then
    if s[2] > now then s = { math.max(0, s[1] - (s[2] - now) / interval), now } end
    tokens = s[1] + (now - s[2]) / interval
    if not (tokens < burst) then tokens = burst end
  end
  if tokens + SLACK >= cost then
    local left = math.max(0, tokens - cost)
    local kept = s
    if cost > 0 then kept = { left, now } end
    return true, kept, math.floor(left + SLACK), 0, (burst - left) * interval
  end
  return false, s, math.floor(tokens + SLACK), (cost - tokens) * interval,
    (burst - tokens) * interval
end
`;

const LEAKY_BUCKET_STEP = `
local function leakyBucket(s, now, cost, p)
  local interval, burst = p[1], p[2]
  local level = 0
  if s ~= nil then
    if s[2] > now then s = { math.min(burst, s[1] + (s[2] - now) / interval), now } end
    level = s[1] - (now - s[2]) / interval
    if not (level > 0) then level = 0 end
  end
  local nxt = level + cost
  if nxt <= burst + SLACK then
    local full = math.min(nxt, burst)
    local kept = s
    if cost > 0 then kept = { full, now } end
    return true, kept, math.floor(burst - full + SLACK), 0, full * interval
  end
  return false, s, math.floor(burst - level + SLACK), (nxt - burst) * interval, level * interval
end
`;

const FIXED_WINDOW_STEP = `
local function fixedWindow(s, now, cost, p)
  local limit, windowMs = p[1], p[2]
  local start = math.floor(now / windowMs + SLACK) * windowMs
  local count = 0
  if s ~= nil and s[1] >= start then
    count = s[2]
    if s[1] > start then s = { start, count } end
  end
  local ends = start + windowMs - now
  if count + cost <= limit + SLACK then
    local total = math.min(count + cost, limit)
    local reset = 0
    if total > 0 then reset = ends end
    local kept = s
    if cost > 0 then kept = { start, total } end
    return true, kept, math.floor(limit - total + SLACK), 0, reset
  end
  return false, s, math.max(0, math.floor(limit - count + SLACK)), ends, ends
end
`;

const SLIDING_WINDOW_STEP = `
local function slidingWindow(s, now, cost, p)
  local limit, windowMs = p[1], p[2]
  local eps = windowMs * SLACK
  local log = s or {}
  local n = #log
  if n > 0 and log[n - 1] > now then
    -- Times after now are counted from now (merged), so no wait exceeds one window.
    local moved = {}
    for i = 1, n, 2 do
      local m = #moved
      if log[i] < now then
        moved[m + 1], moved[m + 2] = log[i], log[i + 1]
      elseif m > 0 and moved[m - 1] == now then
        moved[m] = moved[m] + log[i + 1]
      else
        moved[m + 1], moved[m + 2] = now, log[i + 1]
      end
    end
    s, log, n = moved, moved, #moved
  end
  local first = 1
  while first <= n and log[first] + windowMs <= now + eps do first = first + 2 end
  local used = 0
  for i = first + 1, n, 2 do used = used + log[i] end
  if used + cost > limit + SLACK then
    local left, retry = used, 0
    for i = first, n, 2 do
      left = left - log[i + 1]
      if left + cost <= limit + SLACK then
        retry = log[i] + windowMs - now
        break
      end
    end
    return false, s, math.max(0, math.floor(limit - used + SLACK)), retry,
      log[n - 1] + windowMs - now
  end
  local kept = s
  if cost > 0 then
    kept = {}
    for i = first, n do kept[#kept + 1] = log[i] end
    if n >= first and log[n - 1] >= now then
      kept[#kept] = kept[#kept] + cost
    else
      kept[#kept + 1] = now
      kept[#kept + 1] = cost
    end
  end
  local reset = 0
  if kept ~= nil and #kept > 0 then reset = math.max(0, kept[#kept - 1] + windowMs - now) end
  return true, kept, math.max(0, math.floor(limit - used - cost + SLACK)), 0, reset
end
`;

// One algorithm on one key: ARGV[4..] are its numbers.
function single(step: string, name: string, count: number): string {
  return `${PRELUDE}${step}
local s = fits("${name}", decode(redis.call("GET", KEYS[1]) or nil))
local allowed, kept, remaining, retry, reset = ${name}(s, now, cost, params(4, ${count}))
if allowed or kept ~= s then save(encode(kept), reset) end
return { allowed and 1 or 0, num(remaining), num(retry), num(reset) }
`;
}

/**
 * GCRA. `ARGV = [cost, consume, now, interval, tolerance]` as for every script (`interval` and
 * `tolerance` are `period / rate` and `burst · interval`), or the short form a consuming
 * decision takes, `ARGV = [interval, tolerance, cost, now]`, of which `cost` (1 when left out)
 * and `now` (Redis's `TIME` when left out) may be left out from the end. The state is the
 * theoretical arrival time (TAT) in epoch milliseconds.
 *
 * The one decision most limiters make, so it is written out flat rather than built from the
 * shared helpers: no closures or tables created per call but its answer. It computes what
 * `GCRA_STEP` does, which {@linkcode MULTI_LIMIT_SCRIPT} still uses, and costs Redis less per
 * call:
 *
 * - The TAT is written as 17 significant digits padded with spaces to 24 characters (which
 *   `tonumber()` and `Number()` read as they are), and the key expires at the end of the second
 *   in which the TAT lies (plus the margin), rather than exactly at the TAT: a decision whose TAT
 *   stays in that second overwrites the 24 characters in place (`SETRANGE`), leaving the expiry
 *   alone, instead of `SET ... PX` every time. Idle keys vanish at most a second later. A state in
 *   any other form (another algorithm's, or this script's before) is read as it was and written
 *   again with `SET ... PX`; the padding says which margin the expiry has (spaces: none, tabs: a
 *   minute), so a write in place never keeps an expiry shorter than its own would be.
 * - The short form answers an allowed decision as one integer, `resetAfterMs · 4096`, when that
 *   product is a whole number below 2^53 (it is for every time Redis's own clock gives: epoch
 *   milliseconds are multiples of 2^-12 since 2004), from which the caller works out `remaining`
 *   as `floor((tolerance - resetAfterMs) / interval + 1e-9)`, the very operations of the script;
 *   anything else, as the full form always, as `[allowed, remaining, retryAfterMs,
 *   resetAfterMs]` with the times as strings. So the common decision reads no `consume` or empty
 *   `now` argument, builds no table for its answer and formats no fraction.
 *
 * @example Load it
 * ```ts ignore
 * import { GCRA_SCRIPT } from "@fluxpool/fluxpool/redis";
 * const sha = await redis.scriptLoad(GCRA_SCRIPT);
 * ```
 */
export const GCRA_SCRIPT: string = `
local cost, consume, now, interval, tolerance, short
if #ARGV == 5 then
  cost, consume, now = tonumber(ARGV[1]), ARGV[2] == "1", tonumber(ARGV[3])
  interval, tolerance, short = tonumber(ARGV[4]), tonumber(ARGV[5]), false
else
  interval, tolerance, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), 1
  if ARGV[3] ~= nil then cost, now = tonumber(ARGV[3]), tonumber(ARGV[4]) end
  consume, short = true, true
end
local margin, pad = 60000, 9
if now == nil then
  local t = redis.call("TIME")
  now, margin, pad = t[1] * 1000 + t[2] / 1000, 0, 32
end
local limit = tolerance + interval * 1e-9
local raw = redis.call("GET", KEYS[1])
local tat = tonumber(raw or "")
local second
if tat ~= nil and #raw == 24 and string.byte(raw, 24) == pad then second = math.floor(tat / 1000) end
local base, restated = now, false
if tat ~= nil and tat >= now then
  if tat - now > limit then tat, restated = now + tolerance, true end
  base = tat
end
local nxt = base + cost * interval
local allowed = nxt - now <= limit
if allowed and cost > 0 then tat = nxt end
if consume and allowed and (nxt - now <= 0 or tat == nil) then
  redis.call("DEL", KEYS[1])
elseif consume and (allowed or restated) then
  local text = string.format("%-24.17g", tat)
  if pad == 9 then text = string.gsub(text, " ", "\\t") end
  local ends = math.floor(tat / 1000)
  if ends == second then
    redis.call("SETRANGE", KEYS[1], "0", text)
  else
    redis.call("SET", KEYS[1], text, "PX", math.ceil((ends + 1) * 1000 + margin - now))
  end
end
if allowed then
  local wait = nxt - now
  if short then
    local ticks = wait * 4096
    if ticks == math.floor(ticks) and ticks < 9007199254740992 then return ticks end
  end
  return { 1, math.floor((tolerance - wait) / interval + 1e-9), 0, string.format("%.17g", wait) }
end
return { 0, math.max(0, math.floor((tolerance - (base - now)) / interval + 1e-9)),
  string.format("%.17g", nxt - tolerance - now), string.format("%.17g", base - now) }
`;

/**
 * Token bucket. `ARGV[4..5] = interval, burst`; the state is `tokens,updatedAt`.
 *
 * @example Load it
 * ```ts ignore
 * import { TOKEN_BUCKET_SCRIPT } from "@fluxpool/fluxpool/redis";
 * const sha = await redis.scriptLoad(TOKEN_BUCKET_SCRIPT);
 * ```
 */
export const TOKEN_BUCKET_SCRIPT: string = single(TOKEN_BUCKET_STEP, "tokenBucket", 2);

/**
 * Leaky bucket (as a meter). `ARGV[4..5] = interval, burst`; the state is `level,updatedAt`.
 *
 * @example Load it
 * ```ts ignore
 * import { LEAKY_BUCKET_SCRIPT } from "@fluxpool/fluxpool/redis";
 * const sha = await redis.scriptLoad(LEAKY_BUCKET_SCRIPT);
 * ```
 */
export const LEAKY_BUCKET_SCRIPT: string = single(LEAKY_BUCKET_STEP, "leakyBucket", 2);

/**
 * Fixed window. `ARGV[4..5] = limit, windowMs`; the state is `windowStart,count`.
 *
 * @example Load it
 * ```ts ignore
 * import { FIXED_WINDOW_SCRIPT } from "@fluxpool/fluxpool/redis";
 * const sha = await redis.scriptLoad(FIXED_WINDOW_SCRIPT);
 * ```
 */
export const FIXED_WINDOW_SCRIPT: string = single(FIXED_WINDOW_STEP, "fixedWindow", 2);

/**
 * Sliding window (an exact log). `ARGV[4..5] = limit, windowMs`; the state is
 * `time,units,time,units,...` for the requests still in the window.
 *
 * @example Load it
 * ```ts ignore
 * import { SLIDING_WINDOW_SCRIPT } from "@fluxpool/fluxpool/redis";
 * const sha = await redis.scriptLoad(SLIDING_WINDOW_SCRIPT);
 * ```
 */
export const SLIDING_WINDOW_SCRIPT: string = single(SLIDING_WINDOW_STEP, "slidingWindow", 2);

/**
 * Several limits in one all-or-nothing decision (`multiLimit`): when any limit denies, nothing
 * is consumed from any. `ARGV[4..] = n, then for each limit: its algorithm's name, how many
 * numbers follow, the numbers`; the state is the limits' states joined by `;`.
 *
 * @example Load it
 * ```ts ignore
 * import { MULTI_LIMIT_SCRIPT } from "@fluxpool/fluxpool/redis";
 * const sha = await redis.scriptLoad(MULTI_LIMIT_SCRIPT);
 * ```
 */
export const MULTI_LIMIT_SCRIPT: string = `${PRELUDE}${GCRA_STEP}${TOKEN_BUCKET_STEP}
${LEAKY_BUCKET_STEP}${FIXED_WINDOW_STEP}${SLIDING_WINDOW_STEP}
local steps = { gcra = gcra, tokenBucket = tokenBucket, leakyBucket = leakyBucket,
  fixedWindow = fixedWindow, slidingWindow = slidingWindow }
local n = tonumber(ARGV[4])
local parts, at = {}, 5
for i = 1, n do
  local count = tonumber(ARGV[at + 1])
  parts[i] = { name = ARGV[at], step = steps[ARGV[at]], p = params(at + 2, count) }
  at = at + 2 + count
end
local raw = redis.call("GET", KEYS[1])
local states = {}
if raw then states = split(raw, ";") end
if #states ~= n then states = {} end
local results, before, allowed = {}, {}, true
for i = 1, n do
  before[i] = fits(parts[i].name, decode(states[i]))
  results[i] = { parts[i].step(before[i], now, cost, parts[i].p) }
  if not results[i][1] then allowed = false end
end
if not allowed then
  -- Nothing is consumed: the limits that would allow report where they stand now.
  for i = 1, n do
    if results[i][1] then results[i] = { parts[i].step(before[i], now, 0, parts[i].p) } end
  end
end
local remaining, retry, reset, changed = math.huge, 0, 0, false
local reply, kept = { 0, 0, 0, 0 }, {}
for i = 1, n do
  local r = results[i]
  changed = changed or r[2] ~= before[i]
  if r[3] < remaining then remaining = r[3] end
  if r[4] > retry then retry = r[4] end
  if r[5] > reset then reset = r[5] end
  kept[i] = encode(r[2])
  reply[#reply + 1] = r[1] and 1 or 0
  reply[#reply + 1] = num(r[3])
  reply[#reply + 1] = num(r[4])
  reply[#reply + 1] = num(r[5])
end
if allowed or changed then save(table.concat(kept, ";"), reset) end
reply[1], reply[2], reply[3], reply[4] = allowed and 1 or 0, num(remaining), num(retry), num(reset)
return reply
`;

/**
 * Forgets a key (`reset`).
 *
 * @example Run it
 * ```ts ignore
 * import { RESET_SCRIPT } from "@fluxpool/fluxpool/redis";
 * await redis.eval(RESET_SCRIPT, ["fluxpool:alice"], []);
 * ```
 */
export const RESET_SCRIPT: string = `return redis.call("DEL", KEYS[1])`;

/**
 * Every decision script by the {@linkcode Algorithm.name} it implements (`"multi"` for
 * `multiLimit`).
 *
 * @example Names
 * ```ts
 * import { REDIS_SCRIPTS } from "@fluxpool/fluxpool/redis";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(Object.keys(REDIS_SCRIPTS).sort(), [
 *   "fixedWindow",
 *   "gcra",
 *   "leakyBucket",
 *   "multi",
 *   "slidingWindow",
 *   "tokenBucket",
 * ]);
 * ```
 */
export const REDIS_SCRIPTS: Readonly<Record<string, string>> = Object.freeze({
  gcra: GCRA_SCRIPT,
  tokenBucket: TOKEN_BUCKET_SCRIPT,
  leakyBucket: LEAKY_BUCKET_SCRIPT,
  fixedWindow: FIXED_WINDOW_SCRIPT,
  slidingWindow: SLIDING_WINDOW_SCRIPT,
  multi: MULTI_LIMIT_SCRIPT,
});
