import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** A request as it came off the wire: the path and query exactly as sent (still encoded), header names in lowercase. */
export interface SignedRequest {
  readonly method: string;
  readonly rawPath: string;
  /** Without the `?`; empty when there is none. */
  readonly rawQuery: string;
  readonly headers: Readonly<Record<string, readonly string[] | undefined>>;
}

/** Why a request is refused, as S3 words it (its status follows from the code). */
export interface SigV4Failure {
  readonly code:
    | 'AccessDenied'
    | 'SignatureDoesNotMatch'
    | 'InvalidAccessKeyId'
    | 'RequestTimeTooSkewed'
    | 'AuthorizationHeaderMalformed'
    | 'AuthorizationQueryParametersError'
    | 'InvalidArgument';
  readonly message: string;
}

export interface VerifySigV4Options {
  /** The secret key of an access key id, or undefined for an unknown one. */
  readonly secretFor: (accessKeyId: string) => string | undefined;
  /** The current time, ms since the epoch. */
  readonly now: number;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
// S3 refuses a signed request whose time is further than this from its own.
const MAX_SKEW_MS = 15 * 60_000;
// And a presigned URL valid for longer than a week.
const MAX_EXPIRES_S = 604_800;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

interface Authorization {
  readonly credential: string;
  readonly signedHeaders: string;
  readonly signature: string;
  readonly amzDate: string;
  readonly payloadHash: string;
  /** The query pairs that are signed (a presigned URL's own signature left out). */
  readonly query: readonly (readonly [string, string])[];
}

/**
 * Verifies an AWS Signature Version 4 (an `Authorization` header or a presigned
 * URL) as S3 does: the canonical request rebuilt from what was received, the
 * signing key derived from the secret of the credential's access key, the
 * signatures compared in constant time, the time checked (15 minutes of skew,
 * a presigned URL's expiry). The payload hash is taken as declared
 * (`x-amz-content-sha256`), as s3rver stores the body unchecked anyway.
 * Undefined when the request is signed correctly.
 */
export function verifySigV4(request: SignedRequest, options: VerifySigV4Options): SigV4Failure | undefined {
  const pairs = parseQuery(request.rawQuery);
  if (pairs === undefined)
    return { code: 'InvalidArgument', message: 'The query string is not valid percent-encoding.' };
  const header = first(request.headers['authorization']);
  const presigned = pairs.some(([name]) => name === 'X-Amz-Algorithm');
  if (header !== undefined && presigned)
    return {
      code: 'InvalidArgument',
      message: 'Only one auth mechanism allowed: the X-Amz-Algorithm query parameter or the Authorization header.',
    };
  if (header === undefined && !presigned)
    return {
      code: 'AccessDenied',
      message:
        'The embedded S3 server answers signed requests only (AWS Signature Version 4, with the credentials it logged at start).',
    };
  const parsed = header !== undefined ? fromHeader(header, request, pairs, options.now) : fromQuery(pairs, options.now);
  if ('code' in parsed) return parsed;

  const [accessKeyId, date, region, service, terminator, ...rest] = parsed.credential.split('/');
  if (
    accessKeyId === undefined ||
    date === undefined ||
    region === undefined ||
    service !== 's3' ||
    terminator !== 'aws4_request' ||
    rest.length > 0 ||
    date !== parsed.amzDate.slice(0, 8)
  ) {
    return {
      code: header !== undefined ? 'AuthorizationHeaderMalformed' : 'AuthorizationQueryParametersError',
      message: 'The credential scope is not <access key id>/<date of the request>/<region>/s3/aws4_request.',
    };
  }
  const secret = options.secretFor(accessKeyId);
  if (secret === undefined)
    return { code: 'InvalidAccessKeyId', message: 'The AWS access key id you provided does not exist in our records.' };
  const signedHeaders = parsed.signedHeaders.split(';');
  if (!signedHeaders.includes('host')) return { code: 'AccessDenied', message: 'The host header must be signed.' };

  const canonicalHeaders = signedHeaders
    .map(
      (name) =>
        `${name}:${(request.headers[name] ?? []).map((value) => value.trim().replace(/\s+/g, ' ')).join(',')}\n`,
    )
    .join('');
  const canonicalQuery = parsed.query
    .map(([name, value]) => [encodeRfc3986(name), encodeRfc3986(value)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  // S3 signs the path as sent: encoded once, not normalised.
  const canonicalRequest = [
    request.method,
    request.rawPath,
    canonicalQuery,
    canonicalHeaders,
    parsed.signedHeaders,
    parsed.payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const stringToSign = [ALGORITHM, parsed.amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${secret}`, date);
  for (const part of [region, 's3', 'aws4_request']) key = hmac(key, part);
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  const provided = /^[0-9a-f]{64}$/.test(parsed.signature) ? Buffer.from(parsed.signature, 'hex') : Buffer.alloc(0);
  if (provided.length !== expected.length || !timingSafeEqual(provided, expected)) {
    return {
      code: 'SignatureDoesNotMatch',
      message:
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    };
  }
  return undefined;
}

function fromHeader(
  header: string,
  request: SignedRequest,
  pairs: readonly (readonly [string, string])[],
  now: number,
): Authorization | SigV4Failure {
  const malformed = (message: string): SigV4Failure => ({ code: 'AuthorizationHeaderMalformed', message });
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space) !== ALGORITHM)
    return { code: 'AccessDenied', message: `The embedded S3 server accepts ${ALGORITHM} signatures only.` };
  const fields = new Map<string, string>();
  for (const field of header.slice(space + 1).split(',')) {
    const equals = field.indexOf('=');
    if (equals > 0) fields.set(field.slice(0, equals).trim(), field.slice(equals + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined)
    return malformed('The authorization header needs Credential, SignedHeaders and Signature.');
  const amzDate = first(request.headers['x-amz-date']);
  const time = amzDate === undefined ? Number.NaN : parseAmzDate(amzDate);
  if (amzDate === undefined || Number.isNaN(time))
    return { code: 'AccessDenied', message: 'AWS authentication requires a valid x-amz-date header.' };
  if (Math.abs(now - time) > MAX_SKEW_MS)
    return {
      code: 'RequestTimeTooSkewed',
      message: 'The difference between the request time and the current time is too large.',
    };
  const payloadHash = first(request.headers['x-amz-content-sha256']);
  if (payloadHash === undefined)
    return { code: 'AccessDenied', message: 'Missing required header for this request: x-amz-content-sha256.' };
  return { credential, signedHeaders, signature, amzDate, payloadHash, query: pairs };
}

function fromQuery(pairs: readonly (readonly [string, string])[], now: number): Authorization | SigV4Failure {
  const failure = (message: string): SigV4Failure => ({ code: 'AuthorizationQueryParametersError', message });
  const get = (name: string) => pairs.find(([key]) => key === name)?.[1];
  const [algorithm, credential, amzDate, expires, signedHeaders, signature] = [
    'X-Amz-Algorithm',
    'X-Amz-Credential',
    'X-Amz-Date',
    'X-Amz-Expires',
    'X-Amz-SignedHeaders',
    'X-Amz-Signature',
  ].map(get);
  if (algorithm !== ALGORITHM) return failure(`X-Amz-Algorithm only supports "${ALGORITHM}".`);
  if (
    credential === undefined ||
    amzDate === undefined ||
    expires === undefined ||
    signedHeaders === undefined ||
    signature === undefined
  ) {
    return failure(
      'A presigned URL needs X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature.',
    );
  }
  const time = parseAmzDate(amzDate);
  if (Number.isNaN(time)) return failure("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\".");
  if (!/^\d{1,6}$/.test(expires) || Number(expires) > MAX_EXPIRES_S)
    return failure(`X-Amz-Expires must be a number of seconds up to ${MAX_EXPIRES_S}.`);
  if (time - now > MAX_SKEW_MS) return { code: 'AccessDenied', message: 'The presigned URL is not valid yet.' };
  if (now > time + Number(expires) * 1000) return { code: 'AccessDenied', message: 'Request has expired.' };
  // A presigned URL never signs its body.
  return {
    credential,
    signedHeaders,
    signature,
    amzDate,
    payloadHash: 'UNSIGNED-PAYLOAD',
    query: pairs.filter(([name]) => name !== 'X-Amz-Signature'),
  };
}

/** `name=value` pairs, decoded; undefined when the percent-encoding is broken. */
function parseQuery(rawQuery: string): (readonly [string, string])[] | undefined {
  if (rawQuery === '') return [];
  try {
    return rawQuery
      .split('&')
      .filter((pair) => pair !== '')
      .map((pair) => {
        const equals = pair.indexOf('=');
        return equals < 0
          ? ([decodeURIComponent(pair), ''] as const)
          : ([decodeURIComponent(pair.slice(0, equals)), decodeURIComponent(pair.slice(equals + 1))] as const);
      });
  } catch {
    return undefined;
  }
}

/** Percent-encoding as SigV4 canonicalises it: everything but A–Z a–z 0–9 - _ . ~. */
function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function parseAmzDate(text: string): number {
  const match = AMZ_DATE.exec(text);
  if (match === null) return Number.NaN;
  const [, year, month, day, hours, minutes, seconds] = match.map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return Date.UTC(year, month - 1, day, hours, minutes, seconds);
}

function first(values: readonly string[] | undefined): string | undefined {
  return values?.[0];
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
