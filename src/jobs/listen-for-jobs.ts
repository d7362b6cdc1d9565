import pg from 'pg';

/** The channel new jobs are announced on: a bare wake-up, never a payload. */
export const JOBS_CHANNEL = 's3_csv_ingest_jobs';
/** The channel a cancelled job is announced on, its id as the payload: the instance running it stops it. */
export const CANCELS_CHANNEL = 's3_csv_ingest_cancels';
/** The channel changed jobs are announced on, comma-separated ids as the payload: event streams show them. */
export const CHANGES_CHANNEL = 's3_csv_ingest_changes';

export interface ListenForJobsConfig {
  /** `DATABASE_URL`. */
  readonly url: string;
  /** A job may be waiting: after a notification, and after each (re)connection. */
  readonly onWake: () => void;
  /** A job was cancelled (on any instance): if it runs here, stop it. */
  readonly onCancel?: (jobId: string) => void;
  /** Jobs changed (on any instance). */
  readonly onChange?: (jobIds: readonly string[]) => void;
  /** The listening connection failed; it is opened again after `reconnectMs`. */
  readonly onError: (error: Error) => void;
  readonly reconnectMs?: number;
}

export interface JobListener {
  close(): Promise<void>;
}

/**
 * LISTENs for new jobs on a connection of its own: a pooled client would be
 * handed back and stop reading, and a listener that stops reading fills the
 * server's notification queue and stalls writers. When the connection fails it
 * reconnects and listens again, and wakes once, since notifications sent while
 * it was away are lost.
 */
export function listenForJobs(config: ListenForJobsConfig): JobListener {
  const { url, onWake, onCancel, onChange, onError, reconnectMs = 1_000 } = config;
  // The connection in use, if any.
  let client: pg.Client | undefined;
  // The pending reconnection.
  let retry: NodeJS.Timeout | undefined;
  let closed = false;

  const connect = async () => {
    retry = undefined;
    const current = new pg.Client({ connectionString: url });
    client = current;
    current.on('notification', (message) => {
      if (message.channel === CANCELS_CHANNEL) {
        if (message.payload) onCancel?.(message.payload);
      } else if (message.channel === CHANGES_CHANNEL) {
        if (message.payload) onChange?.(message.payload.split(','));
      } else onWake();
    });
    current.on('error', (error) => {
      onError(error);
      drop(current);
    });
    current.on('end', () => drop(current));
    try {
      await current.connect();
      await current.query(`LISTEN ${JOBS_CHANNEL}`);
      if (onCancel !== undefined) await current.query(`LISTEN ${CANCELS_CHANNEL}`);
      if (onChange !== undefined) await current.query(`LISTEN ${CHANGES_CHANNEL}`);
      onWake();
    } catch (error) {
      if (client === current) onError(error as Error);
      drop(current);
    }
  };

  function drop(dropped: pg.Client): void {
    if (client !== dropped) return;
    client = undefined;
    dropped.end().catch(() => undefined);
    if (!closed) retry = setTimeout(() => void connect(), reconnectMs);
  }

  void connect();
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      const current = client;
      client = undefined;
      await current?.end().catch(() => undefined);
    },
  };
}
