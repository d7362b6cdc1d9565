import type { Logger } from '../logging/create-logger.ts';
import { createPostgresJobStore, type PostgresJobStore } from './postgres-job-store.ts';

/** The PostgreSQL store shared by the instances that name one DATABASE_URL. */
export async function openSharedJobStore(
  config: { readonly url: string; readonly queueCapacity: number; readonly retryAfterSeconds: number },
  logger: Logger,
): Promise<PostgresJobStore> {
  const { url, queueCapacity, retryAfterSeconds } = config;
  const store = await createPostgresJobStore({
    url,
    queueCapacity,
    retryAfterSeconds,
    onPoolError: (error) =>
      logger.warn('an idle job store connection failed; the pool replaces it', { error: String(error) }),
  });
  logger.info('job store: PostgreSQL', { host: new URL(url).host });
  return store;
}
