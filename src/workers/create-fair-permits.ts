import { AppError } from '../errors.ts';

export interface FairPermits {
  /**
   * Resolves once `group` holds one more permit. Waiting groups are served by
   * the fewest permits held, then oldest first, so one busy group cannot take
   * them all while another waits. Rejects with `cancelled` if `signal` aborts first.
   */
  acquire(group: unknown, signal?: AbortSignal): Promise<void>;
  /** Gives back one of the group's permits. */
  release(group: unknown): void;
  /** Gives back every permit the group holds and drops its waits (the group ended). */
  releaseAll(group: unknown): void;
  /** Permits held now, by every group. */
  held(): number;
  /** Acquires waiting now. */
  waiting(): number;
}

interface Wait {
  readonly group: unknown;
  readonly grant: () => void;
  readonly fail: (error: unknown) => void;
}

/** At most `limit` permits held at once across groups, handed out fairly. */
export function createFairPermits(limit: number): FairPermits {
  if (!(limit >= 1)) throw new AppError('internal', `A permit limit must be at least 1 (got ${limit}).`);
  const holders = new Map<unknown, number>();
  const waits: Wait[] = [];
  let total = 0;

  const take = (group: unknown) => {
    holders.set(group, (holders.get(group) ?? 0) + 1);
    total += 1;
  };

  function grantWaiting(): void {
    while (total < limit && waits.length > 0) {
      let best = 0;
      for (let index = 1; index < waits.length; index += 1) {
        if ((holders.get(waits[index]!.group) ?? 0) < (holders.get(waits[best]!.group) ?? 0)) best = index;
      }
      const [wait] = waits.splice(best, 1);
      take(wait!.group);
      wait!.grant();
    }
  }

  return {
    acquire(group, signal) {
      if (signal?.aborted) return Promise.reject(cancelled());
      if (total < limit && waits.length === 0) {
        take(group);
        return Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const index = waits.indexOf(wait);
          if (index >= 0) waits.splice(index, 1);
          reject(cancelled());
        };
        const wait: Wait = {
          group,
          grant: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
          fail: (error) => {
            signal?.removeEventListener('abort', onAbort);
            reject(error);
          },
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        waits.push(wait);
      });
    },
    release(group) {
      const count = holders.get(group) ?? 0;
      if (count === 0) return;
      if (count === 1) holders.delete(group);
      else holders.set(group, count - 1);
      total -= 1;
      grantWaiting();
    },
    releaseAll(group) {
      for (let index = waits.length - 1; index >= 0; index -= 1) {
        if (waits[index]!.group === group) waits.splice(index, 1)[0]!.fail(cancelled());
      }
      total -= holders.get(group) ?? 0;
      holders.delete(group);
      grantWaiting();
    },
    held: () => total,
    waiting: () => waits.length,
  };
}

function cancelled(): AppError {
  return new AppError('cancelled', 'The job was cancelled.');
}
