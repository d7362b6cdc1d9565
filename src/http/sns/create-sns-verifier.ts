import { X509Certificate, verify as verifySignature } from 'node:crypto';
import { AppError } from '../../errors.ts';
import type { SnsEnvelope } from '../triggers/sns-envelope.ts';
import type { SnsFetch } from './fetch-sns-url.ts';
import { snsStringToSign } from './sns-string-to-sign.ts';
import { snsUrl } from './sns-url.ts';

/** Strict base64: Buffer.from would ignore what follows the padding. */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** SNS writes `Timestamp` as ISO-8601 UTC, e.g. `2012-04-26T20:45:04.751Z`. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

export interface SnsVerifierOptions {
  /** Fetches certificates and SubscribeURLs (only ever `https://sns.<region>.amazonaws.com/` ones). */
  readonly fetch: SnsFetch;
  /** Signing certificates kept (by URL without its query), least recently used dropped first. Default 16. */
  readonly maxCertificates?: number;
  /** Topics whose messages are accepted (`SNS_TOPIC_ARNS`); unset: any topic. */
  readonly topicArns?: readonly string[] | undefined;
  /** Oldest `Timestamp` accepted, ms before now: a captured message cannot be replayed later. Default 1 h. */
  readonly maxAgeMs?: number;
  /** Furthest `Timestamp` accepted ahead of now, ms: clock skew between SNS and this host. Default 5 min. */
  readonly maxAheadMs?: number;
  readonly now?: () => Date;
}

export interface SnsVerifier {
  /**
   * Resolves when the envelope comes from an allowed topic, is recent (its
   * `Timestamp` within the window), and its signature verifies against its
   * signing certificate; else `forbidden` — a certificate that cannot be fetched
   * included, since an unverified sender chooses that URL (no request makes a
   * 5xx by naming an unreachable host). Topic and time are checked first: they
   * cost no fetch, and the signature covers both.
   */
  verify(envelope: SnsEnvelope): Promise<void>;
  /** Confirms a verified `SubscriptionConfirmation` by fetching its SubscribeURL. */
  confirm(envelope: SnsEnvelope): Promise<void>;
}

/** Verifies SNS HTTP deliveries (SignatureVersion 1: SHA1, 2: SHA256) with a bounded certificate cache. */
export function createSnsVerifier(options: SnsVerifierOptions): SnsVerifier {
  const {
    fetch,
    maxCertificates = 16,
    topicArns,
    maxAgeMs = 3_600_000,
    maxAheadMs = 300_000,
    now = () => new Date(),
  } = options;
  const allowedTopics = topicArns === undefined ? undefined : new Set(topicArns);
  // Certificates by URL without query or fragment, most recently used last; a failed load is dropped, so it is fetched
  // again next time.
  const certificates = new Map<string, Promise<X509Certificate>>();

  return {
    async verify(envelope) {
      if (allowedTopics !== undefined && !allowedTopics.has(envelope.TopicArn)) {
        throw forbidden(`Its topic ${envelope.TopicArn} is not in SNS_TOPIC_ARNS.`);
      }
      checkTimestamp(envelope.Timestamp);
      const url = snsUrl(envelope.SigningCertURL);
      if (url === undefined || !url.pathname.endsWith('.pem')) {
        throw forbidden('Its SigningCertURL is not an https://sns.<region>.amazonaws.com/….pem address.');
      }
      const text = snsStringToSign(envelope);
      if (text === undefined) throw forbidden(`A ${envelope.Type} must carry SubscribeURL and Token.`);
      if (!BASE64.test(envelope.Signature) || envelope.Signature.length % 4 !== 0)
        throw forbidden('Its Signature is not base64.');
      const certificate = await certificateAt(url);
      const time = now().getTime();
      if (!(Date.parse(certificate.validFrom) <= time && time <= Date.parse(certificate.validTo))) {
        throw forbidden('Its signing certificate is not valid at this time.');
      }
      let valid: boolean;
      try {
        valid = verifySignature(
          envelope.SignatureVersion === '1' ? 'sha1' : 'sha256',
          Buffer.from(text, 'utf8'),
          certificate.publicKey,
          Buffer.from(envelope.Signature, 'base64'),
        );
      } catch {
        valid = false;
      }
      if (!valid) throw forbidden('Its signature does not verify.');
    },

    async confirm(envelope) {
      const url = envelope.SubscribeURL === undefined ? undefined : snsUrl(envelope.SubscribeURL);
      if (url === undefined) throw forbidden('Its SubscribeURL is not an https://sns.<region>.amazonaws.com/ address.');
      let response;
      try {
        response = await fetch(url);
      } catch (error) {
        throw new AppError(
          'sns_unreachable',
          `The SNS subscription to ${envelope.TopicArn} could not be confirmed: ${url.host} could not be reached (${(error as Error).message}).`,
          { cause: error },
        );
      }
      if (response.status !== 200) {
        throw new AppError(
          'sns_unreachable',
          `The SNS subscription to ${envelope.TopicArn} could not be confirmed: ${url.host} answered ${response.status}.`,
        );
      }
    },
  };

  /** Refuses a `Timestamp` that is not ISO-8601 UTC, older than `maxAgeMs` or more than `maxAheadMs` ahead. */
  function checkTimestamp(timestamp: string): void {
    const sent = TIMESTAMP.test(timestamp) ? Date.parse(timestamp) : Number.NaN;
    if (Number.isNaN(sent)) throw forbidden(`Its Timestamp ${JSON.stringify(timestamp)} is not an ISO-8601 UTC time.`);
    const age = now().getTime() - sent;
    if (age > maxAgeMs)
      throw forbidden(
        `Its Timestamp ${timestamp} is more than ${describeMs(maxAgeMs)} old; an old message may be a replay.`,
      );
    if (-age > maxAheadMs)
      throw forbidden(`Its Timestamp ${timestamp} is more than ${describeMs(maxAheadMs)} in the future.`);
  }

  /**
   * The certificate at `url`, fetched once. Keyed and fetched without the query
   * and fragment: they name no other certificate, and would otherwise let any
   * sender force a fetch (and evict the cache) before its signature is checked.
   */
  function certificateAt(url: URL): Promise<X509Certificate> {
    const key = `${url.origin}${url.pathname}`;
    const cached = certificates.get(key);
    if (cached !== undefined) {
      certificates.delete(key);
      certificates.set(key, cached);
      return cached;
    }
    const loading = load(new URL(key));
    certificates.set(key, loading);
    loading.catch(() => {
      if (certificates.get(key) === loading) certificates.delete(key);
    });
    for (const href of certificates.keys()) {
      if (certificates.size <= maxCertificates) break;
      certificates.delete(href);
    }
    return loading;
  }

  async function load(url: URL): Promise<X509Certificate> {
    let response;
    try {
      response = await fetch(url);
    } catch (error) {
      throw new AppError(
        'forbidden',
        `The SNS message is refused: its signing certificate could not be fetched (${url.host}: ${(error as Error).message}).`,
        { cause: error },
      );
    }
    if (response.status !== 200)
      throw forbidden(`Its signing certificate could not be fetched (${url.host} answered ${response.status}).`);
    try {
      return new X509Certificate(response.body);
    } catch (error) {
      throw new AppError(
        'forbidden',
        'The SNS message is refused: its SigningCertURL does not serve an X.509 certificate.',
        { cause: error },
      );
    }
  }
}

function describeMs(ms: number): string {
  if (ms % 3_600_000 === 0) return ms === 3_600_000 ? 'an hour' : `${ms / 3_600_000} hours`;
  if (ms % 60_000 === 0) return ms === 60_000 ? 'a minute' : `${ms / 60_000} minutes`;
  return `${ms} ms`;
}

function forbidden(reason: string): AppError {
  return new AppError('forbidden', `The SNS message is refused: ${reason}`);
}
