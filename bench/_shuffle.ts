// The reports run their contenders in an order shuffled every round: a contender also pays for
// the garbage its predecessor left, and in a fixed rotation each one always followed the same
// one. The seed is fixed, so that runs are alike.

/** Returns a function that shuffles an order in place; each call draws the next permutation. */
export function shuffler(): (order: number[]) => void {
  let seed = 1;
  const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
  return (order) => {
    for (let k = order.length - 1; k > 0; k--) {
      const j = Math.floor(random() * (k + 1));
      [order[k], order[j]] = [order[j], order[k]];
    }
  };
}
