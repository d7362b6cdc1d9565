export interface BackoffConfig {
  /** Delay before the first retry, in ms (`RETRY_BASE_MS`). */
  readonly baseMs: number;
  /** Longest delay, in ms (`RETRY_MAX_MS`). */
  readonly maxMs: number;
  /** Source of jitter in [0, 1); `() => 1` makes delays exact (tests). Default `Math.random`. */
  readonly random?: () => number;
}

/**
 * Exponential backoff with "equal jitter": the n-th retry (1-based) waits between
 * half and all of `min(maxMs, baseMs * 2^(n-1))`, so retries of many jobs spread
 * out but never collapse to zero.
 */
export function backoff(config: BackoffConfig): (retry: number) => number {
  const { baseMs, maxMs, random = Math.random } = config;
  return (retry) => {
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, retry - 1));
    return Math.round(ceiling / 2 + (ceiling / 2) * random());
  };
}
