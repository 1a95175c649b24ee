// TEMPORARY stand-in for the `pacing` branch (src/http/server_pacer.ts and
// ratelimit_headers.ts), replaced when that branch is merged. Not shipped.
import type { Clock } from "../limiter/clock.ts";

export class ServerPacer {
  constructor(_options: { clock?: Clock } = {}) {}
  acquire(_key: string, signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    return Promise.resolve(() => {});
  }
  observe(_key: string, _response: Response): void {}
}

export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
