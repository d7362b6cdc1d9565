import type { TestService } from './test-service.ts';

export interface TriggerAnswer {
  readonly status: number;
  readonly headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

/** `POST /v1/trigger` with a JSON body (a string is sent as it is), answer parsed. */
export async function postTrigger(
  svc: TestService,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<TriggerAnswer> {
  const response = await svc.fetch('/v1/trigger', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
}
