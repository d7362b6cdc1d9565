import type { z } from 'zod';
import { eventBridgeTrigger } from '../triggers/eventbridge-trigger.ts';
import { objectTrigger } from '../triggers/object-trigger.ts';
import { restTrigger } from '../triggers/rest-trigger.ts';
import { s3EventTrigger } from '../triggers/s3-event-trigger.ts';
import { s3TestEvent } from '../triggers/s3-test-event.ts';
import { snsEnvelope } from '../triggers/sns-envelope.ts';
import { jobIdParam, listJobsQuery, outputNameParam, uploadKey, uploadProcess } from '../request-schemas.ts';
import { errorBody, health, jobList, job, readiness, triggerAnswer, uploadAnswer } from './response-schemas.ts';
import { toJsonSchema, type JsonSchema } from './to-json-schema.ts';

export interface OpenApiOptions {
  /** The service's version (package.json). */
  readonly version: string;
}

type Operation = Record<string, unknown>;

/**
 * The OpenAPI 3.1 document of the service. Request bodies and parameters are
 * converted from the zod schemas the routes validate with; answers from
 * `response-schemas.ts`. A spec checks that every route of the app is in it.
 */
export function buildOpenApi(options: OpenApiOptions): Record<string, unknown> {
  const schemas: Record<string, JsonSchema> = {};
  const input = (schema: z.ZodType) => toJsonSchema(schema, 'input', schemas);
  const output = (schema: z.ZodType) => toJsonSchema(schema, 'output', schemas);
  // A schema with a `meta({ id })` lands in `schemas` under that id by itself; assigning its
  // root (a `$ref` to that id) over it would make the component a reference to itself.
  output(errorBody);
  schemas['Job'] = output(job);

  const json = (schema: z.ZodType, description: string) => ({
    description,
    content: { 'application/json': { schema: output(schema) } },
  });
  const failure = (description: string) => ({ $ref: `#/components/responses/${description}` });
  const errors = (...statuses: (keyof typeof ERROR_RESPONSES)[]) =>
    Object.fromEntries(statuses.map((status) => [status, failure(ERROR_RESPONSES[status])]));
  // Without API_TOKEN every route may be 403 (a Host that is not loopback, a cross-site change).
  const v1 = (operation: Operation): Operation => ({
    ...operation,
    tags: operation['tags'] ?? ['jobs'],
    responses: { ...(operation['responses'] as object), ...errors('401', '403') },
  });
  const open = (operation: Operation): Operation => ({
    ...operation,
    security: [],
    responses: { ...(operation['responses'] as object), ...errors('403') },
  });
  const idParam = { name: 'id', in: 'path', required: true, description: 'The job id.', schema: input(jobIdParam) };
  const eventStream = (description: string) => ({
    description,
    content: {
      'text/event-stream': {
        schema: {
          type: 'string',
          description:
            'Server-Sent Events: `event: <type>` and `data: {"type", "at", "job"}` (the changed fields of the job; the whole job for `queued` and `snapshot`), a `: keep-alive` comment every 15 s.',
        },
      },
    },
  });

  const triggerShapes = [
    ['REST', restTrigger],
    ['ObjectTrigger', objectTrigger],
    ['S3EventNotification', s3EventTrigger],
    ['S3TestEvent', s3TestEvent],
    ['EventBridgeObjectCreated', eventBridgeTrigger],
    ['SnsDelivery', snsEnvelope],
  ] as const;
  for (const [name, schema] of triggerShapes) schemas[name] = input(schema);
  const triggerBody = { oneOf: triggerShapes.map(([name]) => ({ $ref: `#/components/schemas/${name}` })) };

  const paths: Record<string, Record<string, Operation>> = {
    '/healthz': {
      get: open({
        operationId: 'getHealth',
        tags: ['operations'],
        summary: 'Liveness',
        responses: { 200: json(health, 'The process answers.') },
      }),
    },
    '/readyz': {
      get: open({
        operationId: 'getReadiness',
        tags: ['operations'],
        summary: 'Readiness: the job store answers and the service is not shutting down',
        responses: { 200: json(readiness, 'Ready.'), 503: json(readiness, 'Not ready; `problems` says why.') },
      }),
    },
    '/metrics': {
      get: {
        operationId: 'getMetrics',
        tags: ['operations'],
        summary: 'Prometheus metrics',
        security: [{}, { metricsToken: [] }],
        description: 'Open unless `METRICS_TOKEN` is set; then `Authorization: Bearer <METRICS_TOKEN>`.',
        responses: {
          200: {
            description: 'Prometheus text exposition format.',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          ...errors('401', '403'),
        },
      },
    },
    '/openapi.json': {
      get: open({
        operationId: 'getOpenApi',
        tags: ['operations'],
        summary: 'This document',
        responses: {
          200: { description: 'OpenAPI 3.1.', content: { 'application/json': { schema: { type: 'object' } } } },
        },
      }),
    },
    '/': {
      get: open({
        operationId: 'getDashboard',
        tags: ['dashboard'],
        summary: 'The dashboard page',
        responses: { 200: { description: 'HTML.', content: { 'text/html': { schema: { type: 'string' } } } } },
      }),
    },
    '/assets/{name}': {
      get: open({
        operationId: 'getDashboardAsset',
        tags: ['dashboard'],
        summary: 'A script, stylesheet or icon of the dashboard',
        parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: { description: 'The file.' }, ...errors('404') },
      }),
    },
    '/v1/trigger': {
      post: v1({
        operationId: 'trigger',
        tags: ['triggers'],
        summary: 'Accept one or many jobs from any trigger shape',
        description:
          'Shapes are detected in this order: REST, `{object: {key}}`, S3 event notification (keys form-URL-encoded; records other than `ObjectCreated:*` skipped), EventBridge `Object Created`, SNS delivery (JSON sent as `text/plain`; accepted only with a valid signature, a `Timestamp` less than an hour old and at most 5 minutes ahead, and a `TopicArn` in `SNS_TOPIC_ARNS` when set: otherwise `403 forbidden`). Every bucket named must be in `ALLOWED_BUCKETS` (`403` `bucket_not_allowed`), and every key, as stored (after URL decoding), 1 to 1,024 bytes of UTF-8 with no control characters, no leading `/`, no empty, `.` or `..` segment, and not under `OUTPUT_PREFIX` (`400` `invalid_key`); both are checked before any S3 call. A duplicate of a queued, running or succeeded job for the same object version returns that job with `duplicate: true`. All or nothing: one record refused, or `QUEUE_CAPACITY` reached, refuses the whole trigger.',
        parameters: [
          {
            name: 'x-amz-sns-message-type',
            in: 'header',
            required: false,
            description:
              'Sent by SNS: then only a signed SNS envelope is read, and only then is a `text/plain` body accepted (`415` otherwise).',
            schema: { type: 'string' },
          },
        ],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: triggerBody }, 'text/plain': { schema: triggerBody } },
        },
        responses: {
          202: json(triggerAnswer, 'Accepted: the jobs, new or duplicate.'),
          200: json(
            triggerAnswer,
            'Nothing to do: an S3 test event, only skipped records, or an SNS subscription (un)confirmed.',
          ),
          ...errors('400', '403', '404', '413', '415', '429', '502', '503'),
        },
      }),
    },
    '/v1/uploads': {
      post: v1({
        operationId: 'upload',
        tags: ['uploads'],
        summary: 'Stream a file into the input bucket, and process it',
        description:
          'Streamed to S3 as it arrives (never buffered whole). The text fields must come before the file part. At most `UPLOAD_CONCURRENCY` at once (past it `503` `server_busy` with `Retry-After`, before the body is read); an upload still streaming after `UPLOAD_TIMEOUT_MS` is cut (`408` `upload_timeout`) and nothing is kept. `INPUT_BUCKET` must be in `ALLOWED_BUCKETS` (`403`).',
        requestBody: {
          required: true,
          content: {
            'multipart/form-data': {
              schema: {
                type: 'object',
                required: ['file'],
                properties: {
                  key: {
                    ...input(uploadKey),
                    description:
                      'Target key; default `uploads/<yyyy>/<mm>/<dd>/<uuid>-<name>` (UTC date). 1 to 1,024 bytes of UTF-8, no control characters, no leading `/`, no empty, `.` or `..` segment, not under `OUTPUT_PREFIX` (else `400` `invalid_key`).',
                  },
                  process: {
                    ...input(uploadProcess),
                    default: 'true',
                    description: 'Whether to queue a job for the stored file.',
                  },
                  file: {
                    type: 'string',
                    contentMediaType: 'application/octet-stream',
                    description: 'The file, at most `UPLOAD_MAX_BYTES`.',
                  },
                },
              },
              encoding: { file: { contentType: '*/*' } },
            },
          },
        },
        responses: {
          201: json(uploadAnswer, 'Stored (and queued unless `process` was false).'),
          ...errors('400', '403', '408', '413', '415', '429', '503'),
        },
      }),
    },
    '/v1/jobs': {
      get: v1({
        operationId: 'listJobs',
        summary: 'Jobs, newest first',
        parameters: Object.entries(listJobsQuery.shape).map(([name, schema]) => ({
          name,
          in: 'query',
          required: false,
          schema: input(schema),
        })),
        responses: { 200: json(jobList, 'A page of jobs.'), ...errors('400', '503') },
      }),
    },
    '/v1/jobs/{id}': {
      get: v1({
        operationId: 'getJob',
        summary: 'One job',
        parameters: [idParam],
        responses: { 200: json(job, 'The job.'), ...errors('404', '503') },
      }),
      delete: v1({
        operationId: 'cancelJob',
        summary: 'Cancel a queued or running job',
        parameters: [idParam],
        description:
          "A running job's streams are destroyed and its multipart uploads aborted, on whichever instance runs it (with a shared `DATABASE_URL`), within about a second.",
        responses: { 202: json(job, 'Cancelled.'), ...errors('404', '409', '503') },
      }),
    },
    '/v1/jobs/{id}/outputs/{name}': {
      get: v1({
        operationId: 'getJobOutput',
        summary: 'Stream an output of a succeeded job',
        description:
          'At most 8 downloads at once (`503 server_busy` with `Retry-After` past it); a download whose client reads nothing for 60 s is cut.',
        parameters: [idParam, { name: 'name', in: 'path', required: true, schema: input(outputNameParam) }],
        responses: {
          200: {
            description: 'The object, streamed from S3.',
            content: {
              'application/x-ndjson': { schema: { type: 'string' } },
              'application/json': { schema: { type: 'object' } },
            },
          },
          ...errors('404', '503'),
        },
      }),
    },
    '/v1/jobs/{id}/events': {
      get: v1({
        operationId: 'followJob',
        tags: ['events'],
        summary: 'Live events of one job',
        parameters: [idParam],
        description:
          'A `snapshot` event (the whole job), then its lifecycle events; the stream ends after the final one, at once when the job has already finished. Progress at most 4 a second. At most `SSE_MAX_CLIENTS` streams at once, both event routes together (`503 server_busy` with `Retry-After` past it).',
        responses: { 200: eventStream('The event stream.'), ...errors('404', '503') },
      }),
    },
    '/v1/events': {
      get: v1({
        operationId: 'followJobs',
        tags: ['events'],
        summary: 'Live events of every job',
        description:
          'Until the service stops. Every job, on whichever instance it runs (with a shared `DATABASE_URL`). Progress at most 4 a second per job. At most `SSE_MAX_CLIENTS` streams at once, both event routes together (`503 server_busy` with `Retry-After` past it).',
        responses: { 200: eventStream('The event stream.'), ...errors('503') },
      }),
    },
  };

  return {
    openapi: '3.1.0',
    info: {
      title: 's3-csv-ingest',
      version: options.version,
      description:
        'Turns CSV objects in S3 into validated NDJSON in S3. Every error body is `{"error": {"code", "message", "details"?}}`. Paths match exactly, case included (any other spelling is `404`); every response carries `X-Content-Type-Options: nosniff`. Without `API_TOKEN`, a request whose `Host` is not `localhost`, `127.0.0.1` or `[::1]` (on a loopback `HOST`), and a POST, PUT, PATCH or DELETE marked cross-site (`Sec-Fetch-Site`, `Origin`) are `403`.',
    },
    tags: ['jobs', 'triggers', 'uploads', 'events', 'operations', 'dashboard'].map((name) => ({ name })),
    security: [{ bearerAuth: [] }, { basicAuth: [] }],
    paths,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: '`API_TOKEN`; required on /v1 routes when it is set.',
        },
        basicAuth: {
          type: 'http',
          scheme: 'basic',
          description:
            '`API_TOKEN` as the password, any user name (what an SNS HTTPS subscription to https://user:token@host/ sends).',
        },
        metricsToken: { type: 'http', scheme: 'bearer', description: '`METRICS_TOKEN`, when set.' },
      },
      responses: Object.fromEntries(
        Object.values(ERROR_RESPONSES).map((name) => [
          name,
          {
            description: RESPONSE_DESCRIPTIONS[name] ?? name.replace(/([a-z])([A-Z])/g, '$1 $2'),
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          },
        ]),
      ),
      schemas,
    },
  };
}

/** Shared error answers whose name alone does not say when they come. */
const RESPONSE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  Unavailable:
    'Unavailable: `store_unavailable` (the job store, PostgreSQL, cannot be reached; nothing was queued), `shutting_down` or `server_busy` (a limit on work at once), each with `Retry-After`; `s3_unavailable` or `s3_throttled` when S3 fails an output download.',
  Forbidden:
    'Forbidden (`forbidden`, or a more precise code): without `API_TOKEN`, a `Host` that is not loopback or a cross-site state-changing request; on a trigger, an SNS message that does not verify.',
};

/** The shared error answers, by status. */
const ERROR_RESPONSES = {
  '400': 'BadRequest',
  '401': 'Unauthorized',
  '403': 'Forbidden',
  '404': 'NotFound',
  '408': 'RequestTimeout',
  '409': 'Conflict',
  '413': 'PayloadTooLarge',
  '415': 'UnsupportedMediaType',
  '429': 'QueueFull',
  '502': 'BadGateway',
  '503': 'Unavailable',
} as const;
