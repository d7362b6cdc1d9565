import type { Logger } from '../logging/create-logger.ts';
import type { JobStore } from './job-store.ts';

const HOUR_MS = 3_600_000;

export interface Pruning {
  stop(): void;
}

/**
 * Retention: finished jobs older than `retentionDays` are deleted now, then
 * every hour. A failed prune is logged and tried again at the next hour.
 */
export async function startPruning(
  config: { readonly retentionDays: number },
  deps: { readonly store: Pick<JobStore, 'prune'>; readonly logger: Logger },
): Promise<Pruning> {
  const { store, logger } = deps;
  const prune = async () => {
    const before = new Date(Date.now() - config.retentionDays * 86_400_000);
    const pruned = await store.prune(before).catch((error: unknown) => {
      logger.error('pruning old jobs failed', { error: String(error) });
      return 0;
    });
    if (pruned > 0) logger.info('old jobs pruned', { pruned, finishedBefore: before.toISOString() });
  };
  await prune();
  const timer = setInterval(() => void prune(), HOUR_MS).unref();
  return { stop: () => clearInterval(timer) };
}
