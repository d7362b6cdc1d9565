import type { SnsEnvelope } from '../triggers/sns-envelope.ts';

const NOTIFICATION_FIELDS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const;
const CONFIRMATION_FIELDS = ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'] as const;

/**
 * The canonical string SNS signs: for each field of the message type, in this
 * byte order, `name\nvalue\n`; `Subject` only when present. Undefined when a
 * field the type requires (SubscribeURL, Token) is missing.
 */
export function snsStringToSign(envelope: SnsEnvelope): string | undefined {
  const fields = envelope.Type === 'Notification' ? NOTIFICATION_FIELDS : CONFIRMATION_FIELDS;
  let text = '';
  for (const name of fields) {
    const value = envelope[name];
    if (value === undefined || value === null) {
      if (name === 'Subject') continue;
      return undefined;
    }
    text += `${name}\n${value}\n`;
  }
  return text;
}
