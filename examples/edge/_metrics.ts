// A minimal, honest metrics source for the example: it counts the decisions of the limiter it
// wraps and renders them in the Prometheus text format.
import type { FluxLimiter, RateLimitDecision } from "../../mod.ts";

/** Wraps a limiter, counting allowed and denied decisions. */
export class DecisionCounter {
  #limiter: FluxLimiter;
  #allowed = 0;
  #denied = 0;

  constructor(limiter: FluxLimiter) {
    this.#limiter = limiter;
  }

  /** The wrapped limiter's algorithm, so the middleware can state its window. */
  get algorithm(): FluxLimiter["algorithm"] {
    return this.#limiter.algorithm;
  }

  /** Decides through the wrapped limiter and counts the outcome. */
  check(key: string, cost: number): RateLimitDecision {
    const decision = this.#limiter.check(key, cost);
    if (decision.allowed) this.#allowed++;
    else this.#denied++;
    return decision;
  }

  /** The counters in Prometheus text format. */
  render(): string {
    return [
      "# HELP fluxpool_decisions_total Rate-limit decisions by outcome.",
      "# TYPE fluxpool_decisions_total counter",
      `fluxpool_decisions_total{outcome="allowed"} ${this.#allowed}`,
      `fluxpool_decisions_total{outcome="denied"} ${this.#denied}`,
      "# HELP fluxpool_limiter_keys Keys the limiter holds state for.",
      "# TYPE fluxpool_limiter_keys gauge",
      `fluxpool_limiter_keys ${this.#limiter.size}`,
      "",
    ].join("\n");
  }
}
