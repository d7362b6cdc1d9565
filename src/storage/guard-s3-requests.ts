import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { checkBucketName, checkStorableKey } from './check-storable-key.ts';
import { verifySigV4 } from './verify-sigv4.ts';

export interface GuardS3RequestsOptions {
  /** The secret of an access key id, or undefined for an unknown one. */
  readonly secretFor: (accessKeyId: string) => string | undefined;
  /** The current time, ms since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

const STATUS: Readonly<Record<string, number>> = {
  AccessDenied: 403,
  SignatureDoesNotMatch: 403,
  InvalidAccessKeyId: 403,
  RequestTimeTooSkewed: 403,
  AuthorizationHeaderMalformed: 400,
  AuthorizationQueryParametersError: 400,
  InvalidArgument: 400,
  InvalidBucketName: 400,
  InvalidURI: 400,
  KeyTooLongError: 400,
  MethodNotAllowed: 405,
};

// The POSTs of the S3 API the service and the SDK use: the other one, POST object (browser uploads), parses multipart
// bodies with s3rver's busboy 0.3.
const POST_ON_KEY = ['uploads', 'uploadId'];
const POST_ON_BUCKET = ['delete'];

/**
 * Wraps s3rver's request listener with the checks it lacks, run on the request
 * as received, before s3rver reads anything of it:
 * - no browser requests (an `Origin` or `Sec-Fetch-Site` header): a web page
 *   must not be able to reach the server with a presigned URL it built;
 * - a valid AWS Signature Version 4 (s3rver accepts a V4 signature unchecked,
 *   and an unsigned request as anonymous);
 * - POST only for the multipart-upload and multi-object-delete calls;
 * - a bucket name and a key s3rver can store as plain paths under its directory.
 * A refused request gets S3's XML error and its connection is closed, so its body is never read.
 */
export function guardS3Requests(handle: RequestListener, options: GuardS3RequestsOptions): RequestListener {
  const { secretFor, now = Date.now } = options;
  return (request, response) => {
    const refusal = check(request, secretFor, now());
    if (refusal === undefined) {
      handle(request, response);
      return;
    }
    refuse(response, refusal.code, refusal.message);
  };
}

function check(
  request: IncomingMessage,
  secretFor: GuardS3RequestsOptions['secretFor'],
  now: number,
): { code: string; message: string } | undefined {
  const headers = request.headersDistinct;
  if (headers['origin'] !== undefined || headers['sec-fetch-site'] !== undefined) {
    return { code: 'AccessDenied', message: 'The embedded S3 server does not answer requests from web pages.' };
  }
  const target = request.url ?? '';
  // Raw, not through URL: it would resolve the `..` segments s3rver does not.
  if (!target.startsWith('/')) return { code: 'InvalidURI', message: "Couldn't parse the specified URI." };
  const queryAt = target.indexOf('?');
  const rawPath = queryAt < 0 ? target : target.slice(0, queryAt);
  const rawQuery = queryAt < 0 ? '' : target.slice(queryAt + 1);
  const signature = verifySigV4({ method: request.method ?? '', rawPath, rawQuery, headers }, { secretFor, now });
  if (signature !== undefined) return signature;

  const slash = rawPath.indexOf('/', 1);
  let bucket: string;
  let key: string;
  try {
    bucket = decodeURIComponent(slash < 0 ? rawPath.slice(1) : rawPath.slice(1, slash));
    key = slash < 0 ? '' : decodeURIComponent(rawPath.slice(slash + 1));
  } catch {
    return { code: 'InvalidURI', message: "Couldn't parse the specified URI." };
  }
  if (bucket === '' && rawPath !== '/') return checkBucketName(bucket);
  if (bucket !== '') {
    const invalid = checkBucketName(bucket);
    if (invalid !== undefined) return invalid;
  }
  if (key !== '') {
    const unstorable = checkStorableKey(key);
    if (unstorable !== undefined) return unstorable;
  }
  if (request.method === 'POST') {
    const names = new Set(rawQuery.split('&').map((pair) => pair.split('=')[0]));
    const allowed = key === '' ? POST_ON_BUCKET : POST_ON_KEY;
    if (bucket === '' || !allowed.some((name) => names.has(name))) {
      return {
        code: 'MethodNotAllowed',
        message:
          'The embedded S3 server takes POST for multipart uploads and multi-object deletes only (no POST object).',
      };
    }
  }
  return undefined;
}

function refuse(response: ServerResponse, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`;
  response.writeHead(STATUS[code] ?? 400, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  response.end(body);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
