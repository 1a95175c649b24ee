/**
 * The rate-limiting algorithms as Lua scripts for Redis, one per algorithm, each deciding one
 * request atomically on one key (so they run unchanged on Redis Cluster).
 *
 * Every script takes `KEYS[1]` (the key) and `ARGV = [cost, consume ("1" | "0"), now (ms, or
 * "" for the server's own `TIME`), ...the algorithm's numbers]`, and answers
 * `[allowed (1 | 0), remaining, retryAfterMs, resetAfterMs]`, the numbers as strings so that
 * fractions survive. The state is a string of comma-separated numbers written with 17
 * significant digits, so the script computes exactly what the TypeScript algorithm computes,
 * and expires (`PX`) when it is back to full capacity, so idle keys vanish (a minute later when
 * the caller supplied the time, as Redis expires keys on its own clock).
 *
 * @module
 */

// Shared head: arguments, time, state decoding, and the helpers to save and answer.
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
local function load(size)
  local raw = redis.call("GET", KEYS[1])
  if not raw then return nil end
  local values = {}
  for part in string.gmatch(raw, "[^,]+") do values[#values + 1] = tonumber(part) end
  if size ~= nil and #values ~= size then return nil end
  return values
end
local function save(values, ttl)
  if not consume then return end
  if ttl <= 0 or #values == 0 then
    redis.call("DEL", KEYS[1])
    return
  end
  local parts = {}
  for i = 1, #values do parts[i] = num(values[i]) end
  redis.call("SET", KEYS[1], table.concat(parts, ","), "PX", math.ceil(ttl + margin))
end
local function answer(allowed, remaining, retry, reset)
  return { allowed and 1 or 0, num(remaining), num(retry), num(reset) }
end
`;

/**
 * GCRA. `ARGV[4..6] = interval, tolerance, burst`; the state is the theoretical arrival time
 * (TAT) in milliseconds.
 *
 * @example Load it
 * ```ts ignore
 * import { GCRA_SCRIPT } from "@fluxpool/fluxpool/redis";
 * const sha = await redis.scriptLoad(GCRA_SCRIPT);
 * ```
 */
export const GCRA_SCRIPT: string = `${PRELUDE}
local interval = tonumber(ARGV[4])
local tolerance = tonumber(ARGV[5])
local slack = interval * SLACK
local state = load(1)
local base = now
if state ~= nil and state[1] >= now then base = state[1] end
local nxt = base + cost * interval
if nxt - now <= tolerance + slack then
  save({ nxt }, nxt - now)
  return answer(true, math.floor((tolerance - (nxt - now)) / interval + SLACK), 0, nxt - now)
end
local remaining = math.max(0, math.floor((tolerance - (base - now)) / interval + SLACK))
return answer(false, remaining, nxt - tolerance - now, base - now)
`;

/**
 * Forgets a key (`reset`).
 *
 * @example Load it
 * ```ts ignore
 * import { RESET_SCRIPT } from "@fluxpool/fluxpool/redis";
 * await redis.eval(RESET_SCRIPT, ["fluxpool:alice"], []);
 * ```
 */
export const RESET_SCRIPT: string = `return redis.call("DEL", KEYS[1])`;

/**
 * Every decision script by the {@linkcode Algorithm.name} it implements.
 *
 * @example Names
 * ```ts
 * import { REDIS_SCRIPTS } from "@fluxpool/fluxpool/redis";
 * import assert from "node:assert/strict";
 *
 * assert.ok("gcra" in REDIS_SCRIPTS);
 * ```
 */
export const REDIS_SCRIPTS: Readonly<Record<string, string>> = Object.freeze({
  gcra: GCRA_SCRIPT,
});
