import type { EventMessage } from './job-event-messages.ts';

/**
 * One message in the `text/event-stream` format: `event:` then one `data:` line
 * (JSON has no raw newlines), ended by a blank line.
 */
export function formatSse(message: EventMessage): string {
  const name = message.event.replace(/[\r\n]/g, '');
  return `event: ${name}\ndata: ${JSON.stringify(message.data)}\n\n`;
}
