import { fork, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AppError } from '../errors.ts';
import type { EmbeddedS3ProcessOptions, FromEmbeddedS3Process, ToEmbeddedS3Process } from './embedded-s3-process.ts';

/** The S3 event record the embedded server emits when an object is written. */
export interface EmbeddedS3Event {
  readonly eventName: string;
  readonly s3: {
    readonly bucket: { readonly name: string };
    readonly object: {
      readonly key: string;
      readonly size?: number;
      readonly eTag?: string;
      readonly sequencer?: string;
    };
  };
}

/** How the server's process ended, when it ended unasked. */
export interface EmbeddedS3Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** What the process reported before it ended (an uncaught error), if anything. */
  readonly reason?: string;
  /** Ends so far, this one included. */
  readonly restarts: number;
}

export interface EmbeddedS3Config {
  /** `0`: any free port (a restarted server keeps the port it got). */
  readonly port: number;
  readonly host?: string;
  /** Where objects are stored. */
  readonly directory: string;
  /** Buckets created at start (kept if they exist). */
  readonly buckets: readonly string[];
  /** Called for every object written or deleted, like an S3 event notification. */
  readonly onEvent?: (record: EmbeddedS3Event) => void;
  /** Called when the server's process ended unasked, before a new one is started. */
  readonly onRestart?: (exit: EmbeddedS3Exit) => void;
}

export interface EmbeddedS3 {
  readonly endpoint: string;
  readonly port: number;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly directory: string;
  /** The process serving now (undefined between a crash and its restart). */
  readonly pid: number | undefined;
  close(): Promise<void>;
}

/** s3rver's fixed credentials: any S3 client can use them against the embedded server. */
export const EMBEDDED_S3_CREDENTIALS = Object.freeze({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });

// A process that ends within this long of its start counts as a failed start: the next one waits longer.
const HEALTHY_AFTER_MS = 10_000;
const MAX_RESTART_DELAY_MS = 5_000;
const CLOSE_TIMEOUT_MS = 5_000;

interface Running {
  readonly child: ChildProcess;
  readonly startedAt: number;
  /** The bound port, or a rejection when the process ends first. */
  readonly listening: Promise<number>;
  readonly exited: Promise<Omit<EmbeddedS3Exit, 'restarts'>>;
}

/**
 * Starts the embedded S3-protocol server (s3rver) on loopback, in a child
 * process this one supervises: s3rver writes files without error handlers and
 * parses bodies with an old busboy, so whatever a request does to it must not
 * reach the service. A process that ends unasked is started again on the same
 * port and directory (`onRestart` is told), its object events cross over IPC.
 * The service and the specs talk to it through the same AWS SDK code path as
 * real S3, signed with `EMBEDDED_S3_CREDENTIALS`.
 */
export async function startEmbeddedS3(config: EmbeddedS3Config): Promise<EmbeddedS3> {
  const { host = '127.0.0.1', directory, buckets, onEvent, onRestart } = config;
  await mkdir(directory, { recursive: true });
  const start = (port: number) =>
    startProcess({ port, host, directory, buckets, credentials: EMBEDDED_S3_CREDENTIALS }, onEvent);
  let current: Running | undefined = start(config.port);
  const port = await current.listening;
  let closing = false;
  let restarts = 0;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;

  const supervise = (running: Running) => {
    void running.exited.then((exit) => {
      current = undefined;
      if (closing) return;
      restarts += 1;
      failures = Date.now() - running.startedAt < HEALTHY_AFTER_MS ? failures + 1 : 0;
      onRestart?.({ ...exit, restarts });
      // A process that keeps dying at start (its port taken) is retried ever more slowly.
      const delay = failures <= 1 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 100 * 2 ** failures);
      timer = setTimeout(() => {
        timer = undefined;
        if (closing) return;
        const next = start(port);
        current = next;
        next.listening.catch(() => undefined);
        supervise(next);
      }, delay);
    });
  };
  supervise(current);

  return {
    endpoint: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    credentials: EMBEDDED_S3_CREDENTIALS,
    directory,
    get pid() {
      return current?.child.pid;
    },
    async close() {
      closing = true;
      clearTimeout(timer);
      const running = current;
      if (running === undefined) return;
      const message: ToEmbeddedS3Process = { type: 'close' };
      if (running.child.connected) running.child.send(message);
      else running.child.kill('SIGTERM');
      const killer = setTimeout(() => running.child.kill('SIGKILL'), CLOSE_TIMEOUT_MS);
      await running.exited;
      clearTimeout(killer);
    },
  };
}

/**
 * Forks the server's entry, as this module runs: compiled JavaScript as it is,
 * TypeScript (npm start, the specs) through tsx's loader, given by its resolved
 * location so that it does not depend on the working directory.
 */
function startProcess(options: EmbeddedS3ProcessOptions, onEvent: EmbeddedS3Config['onEvent']): Running {
  const extension = path.extname(fileURLToPath(import.meta.url));
  const entry = fileURLToPath(new URL(`./embedded-s3-process${extension}`, import.meta.url));
  const child = fork(entry, [JSON.stringify(options)], {
    execArgv:
      extension === '.ts' ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href] : [],
    serialization: 'json',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let reason: string | undefined;
  let listened: (port: number) => void = () => undefined;
  const listening = new Promise<number>((resolve) => {
    listened = resolve;
  });
  child.on('message', (message: FromEmbeddedS3Process) => {
    if (message.type === 'listening') listened(message.port);
    else if (message.type === 'event') onEvent?.(message.record);
    else if (message.type === 'failed') reason = message.reason;
  });
  const exited = new Promise<Omit<EmbeddedS3Exit, 'restarts'>>((resolve) => {
    // 'close', not 'exit': it comes after the last IPC message, so the reason is in.
    child.once('close', (code, signal) => resolve({ code, signal, ...(reason === undefined ? {} : { reason }) }));
  });
  // An IPC write to a process that just died fails; the exit reports it.
  child.on('error', () => undefined);
  const failedStart = exited.then((exit) => {
    throw new AppError(
      'internal',
      `The embedded S3 server did not start on ${options.host}:${options.port}: ${exit.reason?.split('\n')[0] ?? `its process ended (${exit.code ?? exit.signal})`}`,
    );
  });
  return { child, startedAt: Date.now(), listening: Promise.race([listening, failedStart]), exited };
}
