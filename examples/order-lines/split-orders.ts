import type { Transform } from '../../src/csv/transform.ts';

/** One row per item of an order: `items` holds `sku x quantity` entries separated by `;`. */
export const transform: Transform = (row, context) => {
  const items = (row['items'] as string | null)?.split(';') ?? [];
  const lines = [];
  for (const item of items) {
    const match = /^\s*([A-Z0-9-]+)\s*x\s*(\d+)\s*$/.exec(item);
    if (match === null) return context.reject(`items: "${item}" is not "SKU x quantity"`);
    lines.push({ order_id: row['order_id'], sku: match[1], quantity: Number(match[2]), line: context.line });
  }
  return lines;
};
