import { readlinkSync } from 'node:fs';
import os from 'node:os';

/**
 * Raises the calling thread's nice value to `nice` (a lower scheduling
 * priority), where the system gives threads a priority of their own: on
 * Linux, `/proc/thread-self` names the thread's id, and `setpriority` on that
 * id changes that thread alone. Returns whether the thread now runs at `nice`
 * or lower; elsewhere it changes nothing and returns false.
 */
export function lowerThreadPriority(nice: number): boolean {
  let threadId: number;
  try {
    threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return false;
  }
  if (!Number.isInteger(threadId)) return false;
  try {
    if (os.getPriority(threadId) < nice) os.setPriority(threadId, nice);
    return true;
  } catch {
    return false;
  }
}
