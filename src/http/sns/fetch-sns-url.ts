/** What the SNS verifier reads from a fetch: the status and the text of the body. */
export interface SnsFetchResponse {
  readonly status: number;
  readonly body: string;
}

/**
 * Fetches an SNS URL (certificate, SubscribeURL); injected so specs serve their own certificate. Throws when
 * unreachable.
 */
export type SnsFetch = (url: URL) => Promise<SnsFetchResponse>;

/** The longest body read: a certificate or a confirmation answer is a few KiB. */
const MAX_BODY_BYTES = 256 * 1024;

/** The default `SnsFetch`: global fetch, no redirects, a 10 s timeout, at most 256 KiB read. */
export async function fetchSnsUrl(url: URL): Promise<SnsFetchResponse> {
  const response = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(10_000) });
  const chunks: Buffer[] = [];
  let length = 0;
  const reader = response.body?.getReader();
  for (;;) {
    const next = await reader?.read();
    if (next === undefined || next.done) break;
    length += next.value.byteLength;
    if (length > MAX_BODY_BYTES) {
      await reader?.cancel();
      throw new Error(`The answer of ${url.origin} is over ${MAX_BODY_BYTES} bytes.`);
    }
    chunks.push(Buffer.from(next.value));
  }
  return { status: response.status, body: Buffer.concat(chunks).toString('utf8') };
}
