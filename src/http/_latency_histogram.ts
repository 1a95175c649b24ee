// A fixed log-scale latency histogram: 8 buckets per doubling (9 % resolution) from 0.01 ms to
// about 5 minutes. Memory is constant whatever the traffic, recording is O(1), and two
// snapshots subtract exactly, which a sampled reservoir cannot do.

export const BUCKETS = 200;
const LOW_MS = 0.01;
const PER_DOUBLING = 8;

/** The bucket a latency falls in. */
export function bucketOf(ms: number): number {
  if (!(ms > LOW_MS)) return 0;
  const i = Math.ceil(Math.log2(ms / LOW_MS) * PER_DOUBLING);
  return i < BUCKETS ? i : BUCKETS - 1;
}

/** The upper bound of bucket `i`, in ms. */
export function bucketUpperMs(i: number): number {
  return LOW_MS * 2 ** (i / PER_DOUBLING);
}

/** The latency below which a fraction `q` of the samples fall (an upper bound, 9 % wide). */
export function quantile(
  histogram: readonly number[],
  count: number,
  q: number,
  max: number,
): number {
  if (count === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * count));
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i];
    if (seen >= rank) return Math.min(bucketUpperMs(i), max);
  }
  return max;
}
