/**
 * `Promise.all(items.map(fn))` with at most `limit` calls of `fn` under way at
 * once. Results keep the order of `items`. The first rejection rejects the
 * whole, and no further call is started after it.
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  // The next item to start.
  let next = 0;
  // Set once a call failed: the runners stop taking items.
  let failed = false;

  async function runner(): Promise<void> {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index]!, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  }

  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, runner));
  return results;
}
