// The main demo: `npm install && npm run demo`. For now it shows the limiter at work on a
// simulated burst of traffic; it grows into the pool-and-pagination demo later.
import { FluxLimiter } from "../mod.ts";
import { ManualClock } from "../src/testing/mod.ts";

const clock = new ManualClock();
const limiter = new FluxLimiter({ rate: 10, burst: 6, clock });

console.log(
  "FluxLimiter: 10 requests/s, burst 6. 24 requests from one client, 25 ms apart:\n",
);
console.log("   t(ms)  allowed  remaining  retryAfterMs  resetAfterMs");
for (let i = 0; i < 24; i++) {
  const d = limiter.check("client-1");
  console.log(
    `${String(clock.now()).padStart(8)}  ${String(d.allowed).padEnd(7)}  ${
      String(d.remaining).padStart(9)
    }  ${d.retryAfterMs.toFixed(0).padStart(12)}  ${d.resetAfterMs.toFixed(0).padStart(12)}`,
  );
  clock.advance(25);
}
