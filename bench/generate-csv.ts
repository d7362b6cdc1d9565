import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/** The columns of the generated IoT-like data, for a pipeline definition. */
export const GENERATED_COLUMNS = {
  timestamp: { type: 'timestamp', required: true },
  device_id: { type: 'string', required: true },
  value: { type: 'number' },
  count: { type: 'integer' },
  ok: { type: 'boolean' },
  note: { type: 'string' },
} as const;

/**
 * Writes a CSV file of about `bytes` bytes: a header and IoT-like records with
 * numbers, timestamps, booleans and some quoted fields with delimiters, doubled
 * quotes and newlines; about one record in 500 is invalid (a bad number).
 * Deterministic for a given size.
 */
export async function generateCsv(file: string, bytes: number): Promise<{ bytes: number; records: number }> {
  const out = createWriteStream(file);
  let written = 0;
  let records = 0;
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const write = async (text: string) => {
    written += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('timestamp,device_id,value,count,ok,note\n');
  const start = Date.UTC(2024, 1, 12);
  let batch = '';
  while (written + batch.length < bytes) {
    const ts = new Date(start + records * 1000).toISOString();
    const device = `dev-${Math.floor(random() * 10_000)
      .toString()
      .padStart(5, '0')}`;
    const value = records % 500 === 499 ? 'n/a' : (random() * 1000 - 500).toFixed(3);
    const count = Math.floor(random() * 100_000);
    const ok = random() < 0.5 ? 'true' : 'false';
    const r = random();
    const note = r < 0.05 ? '"reading, averaged"' : r < 0.07 ? '"said ""hi"""' : r < 0.08 ? '"two\nlines"' : '';
    batch += `${ts},${device},${value},${count},${ok},${note}\n`;
    records += 1;
    if (batch.length > 1 << 16) {
      await write(batch);
      batch = '';
    }
  }
  if (batch) await write(batch);
  out.end();
  await once(out, 'finish');
  return { bytes: written, records };
}
