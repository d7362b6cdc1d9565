import { request } from 'node:http';
import { signS3Request } from './sign-s3-request.ts';

export interface RawAnswer {
  readonly status: number;
  /** The S3 error code of an XML error body. */
  readonly code: string | undefined;
  readonly body: string;
}

// The dicer crash (GHSA-wm7h-9275-46v2): a part header line that starts with a space.
const BOUNDARY = '----WebKitFormBoundaryoo6vortfDzBsDiro';
export const DICER_CRASH = {
  headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
  body: `--${BOUNDARY}\r\n Content-Disposition: form-data; name="key"\r\n\r\n\r\n--${BOUNDARY}--`,
};

/** Sends `path` exactly as given (no normalisation, as an attacker's client would). */
export function send(
  endpoint: string,
  method: string,
  rawPath: string,
  headers: Record<string, string> = {},
  body = '',
): Promise<RawAnswer> {
  const { hostname, port } = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: hostname,
        port,
        method,
        path: rawPath,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1], body: text }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** `send`, signed with the embedded server's credentials by the SDK's own signer. */
export async function sendSigned(
  endpoint: string,
  method: string,
  rawPath: string,
  headers: Record<string, string> = {},
  body = '',
): Promise<RawAnswer> {
  const [pathPart = '', query = ''] = rawPath.split('?');
  const signed = await signS3Request({
    method,
    host: new URL(endpoint).host,
    path: pathPart,
    query: Object.fromEntries(new URLSearchParams(query)),
    headers,
  });
  return send(endpoint, method, rawPath, signed, body);
}
