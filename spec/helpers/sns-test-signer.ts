import { execFileSync } from 'node:child_process';
import { sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SnsFetch } from '../../src/http/sns/fetch-sns-url.ts';
import { snsStringToSign } from '../../src/http/sns/sns-string-to-sign.ts';
import type { SnsEnvelope } from '../../src/http/triggers/sns-envelope.ts';

export const CERT_URL = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-spec.pem';
export const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:ingest-events';

export interface SnsTestSigner {
  /** The PEM certificate served at CERT_URL. */
  readonly certificate: string;
  /** Signs an envelope (SignatureVersion 1 or 2) with the spec's key. */
  sign(envelope: Omit<SnsEnvelope, 'Signature'>): SnsEnvelope;
  /** A Notification carrying `message` (JSON-encoded), signed. */
  notification(message: unknown, overrides?: Partial<SnsEnvelope>): SnsEnvelope;
  /** An `SnsFetch` serving the certificate at CERT_URL and 200 for SubscribeURLs; records each URL fetched. */
  readonly fetch: SnsFetch;
  readonly fetched: string[];
  /** Answers for URLs, overriding the defaults (status, or a thrown error). */
  readonly answers: Map<string, { status: number; body: string } | Error>;
}

/**
 * A key and a self-signed X.509 certificate for signing SNS messages in specs.
 * Node's crypto makes keys but not certificates, so the `openssl` CLI makes both.
 */
export function createSnsTestSigner(): SnsTestSigner {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'sns-spec-'));
  let privateKey: string;
  let certificate: string;
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=sns.amazonaws.com',
        '-keyout',
        path.join(directory, 'key.pem'),
        '-out',
        path.join(directory, 'cert.pem'),
      ],
      { stdio: 'pipe' },
    );
    privateKey = readFileSync(path.join(directory, 'key.pem'), 'utf8');
    certificate = readFileSync(path.join(directory, 'cert.pem'), 'utf8');
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  const fetched: string[] = [];
  const answers = new Map<string, { status: number; body: string } | Error>();
  let sequence = 0;

  const signer: SnsTestSigner = {
    certificate,
    fetched,
    answers,
    sign(envelope) {
      const text = snsStringToSign({ ...envelope, Signature: 'x' });
      if (text === undefined) throw new Error('the envelope lacks a signed field');
      const signature = sign(
        envelope.SignatureVersion === '1' ? 'sha1' : 'sha256',
        Buffer.from(text, 'utf8'),
        privateKey,
      ).toString('base64');
      return { ...envelope, Signature: signature };
    },
    notification(message, overrides = {}) {
      sequence += 1;
      const { Signature: _ignored, ...fields } = {
        Type: 'Notification' as const,
        MessageId: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
        TopicArn: TOPIC_ARN,
        Subject: 'Amazon S3 Notification',
        Message: JSON.stringify(message),
        Timestamp: new Date().toISOString(),
        SignatureVersion: '2' as const,
        Signature: '',
        SigningCertURL: CERT_URL,
        ...overrides,
      };
      return signer.sign(fields);
    },
    async fetch(url) {
      fetched.push(url.href);
      const answer = answers.get(url.href);
      if (answer instanceof Error) throw answer;
      if (answer !== undefined) return answer;
      if (url.href === CERT_URL) return { status: 200, body: certificate };
      if (url.searchParams.get('Action') === 'ConfirmSubscription')
        return { status: 200, body: '<ConfirmSubscriptionResponse/>' };
      return { status: 404, body: 'not found' };
    },
  };
  return signer;
}
