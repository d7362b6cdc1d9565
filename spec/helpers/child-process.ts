import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface Child {
  readonly process: ChildProcess;
  /** Every JSON line the child printed so far. */
  lines(): Record<string, unknown>[];
  /** The last 10,000 characters the child wrote to stderr. */
  stderr(): string;
  /** Resolves with the first line matching, or rejects after `timeoutMs`. */
  waitForLine(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
}

/**
 * Runs an entry of this project in a child process: TypeScript (`src/main.ts`, a spec helper) with tsx, JavaScript
 * (`dist/main.js`) as it is.
 */
export function startChild(entry: string, env: Record<string, string>, nodeArgs: readonly string[] = []): Child {
  const args = [...nodeArgs, ...(entry.endsWith('.ts') ? ['--import', 'tsx', entry] : [entry])];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let pending = '';
  let stderr = '';
  let closed = false;
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    let newline;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const text = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      try {
        lines.push(JSON.parse(text) as Record<string, unknown>);
      } catch {
        lines.push({ text });
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-10_000);
  });
  // 'close', not 'exit': 'exit' can come while the child's last stdout lines are still unread,
  // and a spec that reads the lines once the child exited would miss them (under load, it did).
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      closed = true;
      for (const wake of waiters) wake();
      resolve({ code, signal });
    });
  });
  return {
    process: child,
    lines: () => [...lines],
    stderr: () => stderr,
    exited,
    waitForLine(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(match);
          if (found !== undefined) {
            finish();
            resolve(found);
          } else if (closed) {
            finish();
            reject(
              new Error(
                `${entry} exited (${child.exitCode ?? child.signalCode}) before the line came; stderr: ${stderr}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`${entry}: no matching line in ${timeoutMs} ms; stderr: ${stderr}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The embedded S3 server in its own process. */
export async function startS3Process(options: {
  directory: string;
  port?: number;
  buckets?: readonly string[];
}): Promise<Child & { endpoint: string; port: number }> {
  const child = startChild('spec/helpers/s3-server-main.ts', {
    S3_DIR: options.directory,
    S3_PORT: String(options.port ?? 0),
    S3_BUCKETS: (options.buckets ?? ['ingest']).join(','),
  });
  const line = await child.waitForLine((l) => typeof l['endpoint'] === 'string');
  return Object.assign(child, { endpoint: String(line['endpoint']), port: Number(line['port']) });
}

/**
 * The service in its own process, as `npm start` runs it (or as the image does, with
 * `entry` = `dist/main.js`); resolves once it listens.
 */
export async function startServiceProcess(
  env: Record<string, string>,
  entry = 'src/main.ts',
  nodeArgs: readonly string[] = [],
): Promise<Child & { url: string }> {
  const child = startChild(
    entry,
    { PORT: '0', EMBEDDED_S3_PORT: '0', LOG_FORMAT: 'json', LOG_LEVEL: 'info', ...env },
    nodeArgs,
  );
  const line = await child.waitForLine((l) => l['message'] === 'listening');
  return Object.assign(child, { url: String(line['url']) });
}
