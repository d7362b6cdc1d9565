import { setMaxListeners } from 'node:events';
import { Worker, type TransferListItem, type WorkerOptions } from 'node:worker_threads';
import { AppError, cancelledError } from '../errors.ts';
import { deserializeError, serializeError, type FromWorker, type ToWorker } from './worker-protocol.ts';

export interface WorkerPoolConfig {
  /** Worker threads at most (`JOB_CONCURRENCY`); started when first needed. */
  readonly size: number;
  /** The worker's entry module (it calls `serveTasks`). */
  readonly entry: URL;
  /** Handed to every worker as `workerData` (config slices; must be cloneable). */
  readonly workerData?: unknown;
  /** How long a cancelled task may take to stop before its worker is terminated, ms. Default 10 000. */
  readonly cancelGraceMs?: number;
  /** V8 young generation of each worker, MB (three semi-spaces). Default: V8's own. */
  readonly youngGenerationMb?: number;
  /**
   * Serves a task's `request` (see `serveTasks`); its signal aborts when the
   * task ends, however it ends, or as soon as it is cancelled (so work done
   * for it elsewhere stops too). `group` is the task's id. Unset: requests fail.
   */
  readonly onRequest?: (
    payload: unknown,
    options: { readonly signal: AbortSignal; readonly group: number },
  ) => Promise<RequestReply>;
}

/** A reply to a worker's request; `transfer` moves its buffers (or ports). */
export interface RequestReply {
  readonly result: unknown;
  readonly transfer?: readonly TransferListItem[];
}

export interface RunOptions<P> {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: P) => void;
  /** Tasks of one group (one job's blocks) share the threads fairly with other groups. */
  readonly group?: unknown;
  /** Buffers (or ports) of the payload to move to the worker instead of copying them. */
  readonly transfer?: readonly TransferListItem[];
}

export interface WorkerPool<T, P, R> {
  /** Runs a task on a free worker (waiting for one if all are busy). */
  run(payload: T, options?: RunOptions<P>): Promise<R>;
  /** Workers alive now. */
  threads(): number;
  /** Tasks waiting or running now. */
  tasks(): number;
  /** The live workers (to supervise them from outside). */
  workers(): readonly Worker[];
  /** Terminates every worker; tasks under way fail with `cancelled`. */
  close(): Promise<void>;
}

interface Task<P> {
  readonly id: number;
  readonly payload: unknown;
  readonly onProgress: ((progress: P) => void) | undefined;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly group: unknown;
  transfer: readonly TransferListItem[];
  /** Aborted when the task ends or is cancelled: its requests under way stop. */
  readonly ended: AbortController;
  cancelling: boolean;
  detach?: () => void;
}

interface Slot<P> {
  readonly worker: Worker;
  task: Task<P> | undefined;
  /** The uncaught error that is ending the worker, if any. */
  crash?: Error;
  graceTimer?: NodeJS.Timeout;
}

/**
 * A pool of worker threads that run one task each at a time. A crashed worker
 * fails its task with `worker_crashed` (retryable) and is replaced when next
 * needed; a cancelled task is asked to stop, and its worker is terminated if it
 * does not within the grace period.
 */
export function createWorkerPool<T, P, R>(config: WorkerPoolConfig): WorkerPool<T, P, R> {
  const { size, entry, workerData, cancelGraceMs = 10_000, youngGenerationMb, onRequest } = config;
  const resourceLimits = youngGenerationMb === undefined ? undefined : { maxYoungGenerationSizeMb: youngGenerationMb };
  // Live workers, busy or idle.
  const slots = new Set<Slot<P>>();
  // Tasks waiting for a free worker, oldest first.
  const waiting: Task<P>[] = [];
  // Id of the next task.
  let nextId = 1;
  let closed = false;

  function spawn(): Slot<P> {
    const worker = startWorker(entry, { workerData, ...(resourceLimits ? { resourceLimits } : {}) });
    const slot: Slot<P> = { worker, task: undefined };
    slots.add(slot);
    worker.on('message', (message: FromWorker) => onMessage(slot, message));
    worker.on('error', (error) => {
      slot.crash = error;
    }); // the exit that follows settles the task
    worker.on('exit', (code) => onExit(slot, code));
    return slot;
  }

  function dispatch(): void {
    while (waiting.length > 0 && !closed) {
      let slot = [...slots].find((candidate) => candidate.task === undefined);
      if (slot === undefined) {
        if (slots.size >= size) return;
        slot = spawn();
      }
      const [task] = waiting.splice(fairest(), 1);
      slot.task = task!;
      slot.worker.postMessage({ type: 'run', taskId: task!.id, payload: task!.payload } satisfies ToWorker, [
        ...task!.transfer,
      ]);
      task!.transfer = [];
    }
  }

  /** The oldest waiting task of the group with the fewest tasks running (one big job cannot starve the others). */
  function fairest(): number {
    const running = new Map<unknown, number>();
    for (const slot of slots)
      if (slot.task !== undefined) running.set(slot.task.group, (running.get(slot.task.group) ?? 0) + 1);
    let best = 0;
    for (let index = 1; index < waiting.length; index += 1) {
      if ((running.get(waiting[index]!.group) ?? 0) < (running.get(waiting[best]!.group) ?? 0)) best = index;
    }
    return best;
  }

  function request(slot: Slot<P>, message: Extract<FromWorker, { type: 'request' }>): void {
    const task = slot.task!;
    const reply = (answer: ToWorker, transfer: readonly TransferListItem[] = []) => {
      if (slot.task !== task) return;
      try {
        slot.worker.postMessage(answer, [...transfer]);
      } catch (error) {
        // A reply that cannot be sent (an untransferable buffer named) fails the request instead of leaving it waiting.
        const failure = new AppError('internal', `A reply to a worker thread could not be sent: ${String(error)}`);
        slot.worker.postMessage({
          type: 'reply',
          requestId: message.requestId,
          error: serializeError(failure),
        } satisfies ToWorker);
      }
    };
    const served =
      onRequest === undefined
        ? Promise.reject(new AppError('internal', 'This pool serves no requests.'))
        : onRequest(message.payload, { signal: task.ended.signal, group: task.id });
    served.then(
      ({ result, transfer }) => reply({ type: 'reply', requestId: message.requestId, result }, transfer),
      (error: unknown) => reply({ type: 'reply', requestId: message.requestId, error: serializeError(error) }),
    );
  }

  function settle(slot: Slot<P>, settleTask: (task: Task<P>) => void): void {
    const task = slot.task;
    if (task === undefined) return;
    slot.task = undefined;
    clearTimeout(slot.graceTimer);
    task.detach?.();
    task.ended.abort();
    settleTask(task);
    dispatch();
  }

  function onMessage(slot: Slot<P>, message: FromWorker): void {
    if (slot.task?.id !== message.taskId) return;
    if (message.type === 'request') request(slot, message);
    else if (message.type === 'progress') slot.task.onProgress?.(message.progress as P);
    else if (message.type === 'done') settle(slot, (task) => task.resolve(message.result));
    else settle(slot, (task) => task.reject(task.cancelling ? cancelledError() : deserializeError(message.error)));
  }

  function onExit(slot: Slot<P>, code: number): void {
    slots.delete(slot);
    settle(slot, (task) =>
      task.reject(
        task.cancelling || closed
          ? cancelledError()
          : new AppError(
              'worker_crashed',
              `The worker thread running the job exited unexpectedly (exit code ${code}${slot.crash ? `: ${slot.crash.message}` : ''}).`,
              { cause: slot.crash },
            ),
      ),
    );
    dispatch();
  }

  /** `reason`: why, as the task's signal says it; the worker's task is aborted with it. */
  function cancel(task: Task<P>, reason?: unknown): void {
    const queued = waiting.indexOf(task);
    if (queued >= 0) {
      waiting.splice(queued, 1);
      task.detach?.();
      task.reject(cancelledError());
      return;
    }
    const slot = [...slots].find((candidate) => candidate.task === task);
    if (slot === undefined || task.cancelling) return;
    task.cancelling = true;
    task.ended.abort();
    slot.worker.postMessage({
      type: 'cancel',
      taskId: task.id,
      ...(reason === undefined ? {} : { reason: serializeError(reason) }),
    } satisfies ToWorker);
    slot.graceTimer = setTimeout(() => void slot.worker.terminate(), cancelGraceMs);
    slot.graceTimer.unref();
  }

  return {
    run(payload, options = {}) {
      if (closed) return Promise.reject(new AppError('shutting_down', 'The worker pool is closed.'));
      if (options.signal?.aborted) return Promise.reject(cancelledError());
      return new Promise<R>((resolve, reject) => {
        const task: Task<P> = {
          id: nextId++,
          payload,
          onProgress: options.onProgress,
          resolve: resolve as (result: unknown) => void,
          reject,
          group: options.group,
          transfer: options.transfer ?? [],
          ended: endedController(),
          cancelling: false,
        };
        const signal = options.signal;
        if (signal !== undefined) {
          const onAbort = () => cancel(task, signal.reason);
          signal.addEventListener('abort', onAbort, { once: true });
          task.detach = () => signal.removeEventListener('abort', onAbort);
        }
        waiting.push(task);
        dispatch();
      });
    },
    threads: () => slots.size,
    tasks: () => waiting.length + [...slots].filter((slot) => slot.task !== undefined).length,
    workers: () => [...slots].map((slot) => slot.worker),
    async close() {
      closed = true;
      for (const task of waiting.splice(0)) task.reject(cancelledError());
      await Promise.all([...slots].map((slot) => slot.worker.terminate()));
    },
  };
}

/**
 * Starts a worker on `entry`. Compiled JavaScript runs as it is; a TypeScript
 * entry (running from source under tsx) is loaded through tsx's loader, which
 * Node 20 does not apply to a worker's entry module by itself.
 */
function startWorker(entry: URL, options: WorkerOptions): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  return new Worker(new URL('./tsx-worker-bootstrap.mjs', import.meta.url), {
    ...options,
    argv: [entry.href],
    execArgv: [],
  });
}

/** A task's end signal: each of its requests under way listens to it (a job's blocks in flight, any number). */
function endedController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
