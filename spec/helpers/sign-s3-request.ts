import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';

/** A request to sign: the path and query as they will be sent (encoded), so a spec can send what the SDK would not. */
export interface RawS3Request {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly payloadHash?: string;
}

export interface SigningOptions {
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  readonly region?: string;
  readonly signingDate?: Date;
}

/** node:crypto in the shape of the SDK's hash constructor. */
class Sha256 {
  readonly #hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.#hash.digest();
  }
  reset(): void {}
}

function toBytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  return data instanceof ArrayBuffer
    ? new Uint8Array(data)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function signer(options: SigningOptions): SignatureV4 {
  return new SignatureV4({
    credentials: { accessKeyId: options.accessKeyId ?? 'S3RVER', secretAccessKey: options.secretAccessKey ?? 'S3RVER' },
    region: options.region ?? 'us-east-1',
    service: 's3',
    sha256: Sha256,
    // As the S3 client signs: the path as sent, not normalised or encoded again.
    uriEscapePath: false,
  });
}

/**
 * The headers of `request` with an Authorization header, signed by the SDK's own SigV4 signer (not the server's
 * verifier).
 */
export async function signS3Request(
  request: RawS3Request,
  options: SigningOptions = {},
): Promise<Record<string, string>> {
  const payloadHash = request.payloadHash ?? 'UNSIGNED-PAYLOAD';
  const signed = await signer(options).sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: request.host,
      path: request.path,
      query: { ...request.query },
      headers: { host: request.host, 'x-amz-content-sha256': payloadHash, ...request.headers },
    },
    options.signingDate === undefined ? {} : { signingDate: options.signingDate },
  );
  return signed.headers;
}

/** A presigned query for `request` (to append to its path), made by the SDK's own signer. */
export async function presignS3Request(
  request: RawS3Request,
  expiresIn: number,
  options: SigningOptions = {},
): Promise<string> {
  const signed = await signer(options).presign(
    // As the SDK's S3 presigner does: the body is never signed.
    {
      method: request.method,
      protocol: 'http:',
      hostname: request.host,
      path: request.path,
      query: { ...request.query },
      headers: { host: request.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...request.headers },
    },
    { expiresIn, ...(options.signingDate === undefined ? {} : { signingDate: options.signingDate }) },
  );
  return Object.entries(signed.query ?? {})
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`)
    .join('&');
}
