import { AppError } from '../errors.ts';
import { MessageChannel, receiveMessageOnPort, type MessagePort, type TransferListItem } from 'node:worker_threads';

/** The sending side of a direct channel. */
export interface DirectChannel {
  /** The far end: send it with the task (moved, in the transfer list); it carries the payload. */
  readonly port: MessagePort;
  /** The answer posted back on the far end; call it once the task is done. */
  answer(): unknown;
  /** Frees the channel (and a payload no one took). */
  close(): void;
}

/**
 * A payload for whichever thread runs a task, sent around the thread that
 * relays the task: it is posted into a fresh channel at once, and only the
 * channel's far end travels with the task. The relay (the main thread, which
 * answers HTTP) never holds the payload's buffers, so its heap does not count
 * them as memory of its own and collect because of them. The thread that runs
 * the task takes the payload with `takeDirect` and posts its answer back with
 * `answerDirect` before the task ends, so the answer is there when the sender
 * learns that it ended.
 */
export function openDirectChannel(payload: unknown, transfer: readonly TransferListItem[] = []): DirectChannel {
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(payload, [...transfer]);
  return {
    port: port2,
    answer() {
      const received = receiveMessageOnPort(port1);
      if (received === undefined) throw new AppError('internal', 'A task ended without its answer on its channel.');
      return received.message;
    },
    close() {
      port1.close();
    },
  };
}

/** The payload a task's direct channel carries (see `openDirectChannel`). */
export function takeDirect(port: MessagePort): unknown {
  const received = receiveMessageOnPort(port);
  if (received === undefined) throw new AppError('internal', 'A task came without its payload on its channel.');
  return received.message;
}

/** Posts a task's answer on its direct channel and closes the channel. */
export function answerDirect(port: MessagePort, answer: unknown, transfer: readonly TransferListItem[] = []): void {
  port.postMessage(answer, [...transfer]);
  port.close();
}
