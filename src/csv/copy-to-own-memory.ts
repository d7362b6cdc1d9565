/**
 * The parts joined in one buffer of its own memory: never a slice of Node's
 * shared pool or of a larger buffer, so it can be moved to a worker thread
 * without taking anything else with it.
 */
export function copyToOwnMemory(parts: readonly Buffer[]): Buffer {
  const size = parts.reduce((total, part) => total + part.length, 0);
  const bytes = Buffer.allocUnsafeSlow(size);
  let at = 0;
  for (const part of parts) at += part.copy(bytes, at);
  return bytes;
}
