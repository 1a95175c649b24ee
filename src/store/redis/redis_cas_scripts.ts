/**
 * The two Lua scripts of {@linkcode RedisStore}'s optimistic path, for algorithms without a Lua
 * version of their own (any custom {@linkcode Algorithm}): read the state with Redis's time,
 * decide in the client, then write only if the state is unchanged.
 *
 * @module
 */

/**
 * For algorithms without a Lua version: reads a key's state with Redis's `TIME`, as
 * `[state or "", seconds, microseconds]`, for an optimistic decision in the client.
 *
 * @example Run it
 * ```ts ignore
 * import { READ_SCRIPT } from "@fluxpool/fluxpool/redis";
 * const [state, seconds, micros] = await redis.eval(READ_SCRIPT, ["fluxpool:alice"], []);
 * ```
 */
export const READ_SCRIPT: string = `local t = redis.call("TIME")
return { redis.call("GET", KEYS[1]) or "", t[1], t[2] }`;

/**
 * The write of an optimistic decision: `ARGV = [expected ("" for none), new ("" to delete),
 * ttl ms]`; answers 1 when the key still held `expected` and was written, else 0.
 *
 * @example Run it
 * ```ts ignore
 * import { COMPARE_AND_SET_SCRIPT } from "@fluxpool/fluxpool/redis";
 * const won = await redis.eval(COMPARE_AND_SET_SCRIPT, ["fluxpool:alice"], ["", "j:[1]", "1000"]);
 * ```
 */
export const COMPARE_AND_SET_SCRIPT: string = `if (redis.call("GET", KEYS[1]) or "") ~= ARGV[1] then
  return 0
end
if ARGV[2] == "" then
  redis.call("DEL", KEYS[1])
else
  redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3])
end
return 1`;
