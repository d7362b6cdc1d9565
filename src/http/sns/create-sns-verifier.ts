import { X509Certificate, verify as verifySignature } from 'node:crypto';
import { AppError } from '../../errors.ts';
import type { SnsEnvelope } from '../triggers/sns-envelope.ts';
import type { SnsFetch } from './fetch-sns-url.ts';
import { snsStringToSign } from './sns-string-to-sign.ts';
import { snsUrl } from './sns-url.ts';

/** Strict base64: Buffer.from would ignore what follows the padding. */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export interface SnsVerifierOptions {
  /** Fetches certificates and SubscribeURLs (only ever `https://sns.<region>.amazonaws.com/` ones). */
  readonly fetch: SnsFetch;
  /** Signing certificates kept, least recently used dropped first. Default 16. */
  readonly maxCertificates?: number;
  readonly now?: () => Date;
}

export interface SnsVerifier {
  /**
   * Resolves when the envelope's signature verifies against its signing
   * certificate; else `forbidden` — a certificate that cannot be fetched
   * included, since an unverified sender chooses that URL (no request makes a
   * 5xx by naming an unreachable host).
   */
  verify(envelope: SnsEnvelope): Promise<void>;
  /** Confirms a verified `SubscriptionConfirmation` by fetching its SubscribeURL. */
  confirm(envelope: SnsEnvelope): Promise<void>;
}

/** Verifies SNS HTTP deliveries (SignatureVersion 1: SHA1, 2: SHA256) with a bounded certificate cache. */
export function createSnsVerifier(options: SnsVerifierOptions): SnsVerifier {
  const { fetch, maxCertificates = 16, now = () => new Date() } = options;
  // Certificates by URL, most recently used last; a failed load is dropped, so it is fetched again next time.
  const certificates = new Map<string, Promise<X509Certificate>>();

  return {
    async verify(envelope) {
      const url = snsUrl(envelope.SigningCertURL);
      if (url === undefined || !url.pathname.endsWith('.pem')) {
        throw forbidden('Its SigningCertURL is not an https://sns.<region>.amazonaws.com/….pem address.');
      }
      const text = snsStringToSign(envelope);
      if (text === undefined) throw forbidden(`A ${envelope.Type} must carry SubscribeURL and Token.`);
      if (!BASE64.test(envelope.Signature) || envelope.Signature.length % 4 !== 0) throw forbidden('Its Signature is not base64.');
      const certificate = await certificateAt(url);
      const time = now().getTime();
      if (!(Date.parse(certificate.validFrom) <= time && time <= Date.parse(certificate.validTo))) {
        throw forbidden('Its signing certificate is not valid at this time.');
      }
      let valid: boolean;
      try {
        valid = verifySignature(envelope.SignatureVersion === '1' ? 'sha1' : 'sha256', Buffer.from(text, 'utf8'), certificate.publicKey, Buffer.from(envelope.Signature, 'base64'));
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
        throw new AppError('sns_unreachable', `The SNS subscription to ${envelope.TopicArn} could not be confirmed: ${url.host} could not be reached (${(error as Error).message}).`, { cause: error });
      }
      if (response.status !== 200) {
        throw new AppError('sns_unreachable', `The SNS subscription to ${envelope.TopicArn} could not be confirmed: ${url.host} answered ${response.status}.`);
      }
    },
  };

  function certificateAt(url: URL): Promise<X509Certificate> {
    const cached = certificates.get(url.href);
    if (cached !== undefined) {
      certificates.delete(url.href);
      certificates.set(url.href, cached);
      return cached;
    }
    const loading = load(url);
    certificates.set(url.href, loading);
    loading.catch(() => {
      if (certificates.get(url.href) === loading) certificates.delete(url.href);
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
      throw new AppError('forbidden', `The SNS message is refused: its signing certificate could not be fetched (${url.host}: ${(error as Error).message}).`, { cause: error });
    }
    if (response.status !== 200) throw forbidden(`Its signing certificate could not be fetched (${url.host} answered ${response.status}).`);
    try {
      return new X509Certificate(response.body);
    } catch (error) {
      throw new AppError('forbidden', 'The SNS message is refused: its SigningCertURL does not serve an X.509 certificate.', { cause: error });
    }
  }


}

function forbidden(reason: string): AppError {
  return new AppError('forbidden', `The SNS message is refused: ${reason}`);
}
