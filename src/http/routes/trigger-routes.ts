import type Router from '@koa/router';
import { AppError } from '../../errors.ts';
import type { JobRequest } from '../../jobs/accept-jobs.ts';
import type { JobTrigger } from '../../jobs/job.ts';
import type { AppDeps } from '../app-deps.ts';
import { readJsonBody } from '../middleware/read-json-body.ts';
import { createSnsVerifier } from '../sns/create-sns-verifier.ts';
import { readS3Event } from '../triggers/read-s3-event.ts';
import { readTrigger } from '../triggers/read-trigger.ts';
import type { SnsEnvelope } from '../triggers/sns-envelope.ts';
import { v1Router } from './v1-router.ts';

/** JSON trigger bodies, SNS deliveries among them, are at most 1 MiB. */
const BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * `POST /v1/trigger`: reads any trigger shape, verifies SNS deliveries, and hands
 * the objects to `acceptJobs` — `202 {"jobs"}`, or `200 {"jobs": []}` when the
 * trigger asks for nothing (an S3 test event, only skipped records, an SNS
 * subscription confirmed). Routes only enqueue.
 */
export function triggerRoutes(
  deps: Pick<AppDeps, 'apiToken' | 'acceptJobs' | 'inputBucket' | 'snsFetch' | 'snsTopicArns'>,
): Router {
  const { acceptJobs, inputBucket } = deps;
  const sns = createSnsVerifier({ fetch: deps.snsFetch, topicArns: deps.snsTopicArns });
  const router = v1Router(deps.apiToken);

  router.post('/v1/trigger', readJsonBody({ limitBytes: BODY_LIMIT_BYTES }), async (ctx) => {
    const snsMessageType = ctx.get('x-amz-sns-message-type') || undefined;
    const read = readTrigger(ctx.state['body'], { inputBucket, snsMessageType });
    let trigger: JobTrigger;
    let requests: readonly JobRequest[];
    if (read.kind === 'sns') {
      await sns.verify(read.envelope);
      if (read.envelope.Type !== 'Notification') {
        if (read.envelope.Type === 'SubscriptionConfirmation') await sns.confirm(read.envelope);
        ctx.status = 200;
        ctx.body = {
          jobs: [],
          subscription: {
            topicArn: read.envelope.TopicArn,
            status: read.envelope.Type === 'SubscriptionConfirmation' ? 'confirmed' : 'unsubscribed',
          },
        };
        return;
      }
      trigger = 'sns';
      requests = readS3Event(parseMessage(read.envelope), 'S3 event in the SNS message');
    } else {
      trigger = read.trigger;
      requests = read.requests;
    }
    if (requests.length === 0) {
      ctx.status = 200;
      ctx.body = { jobs: [] };
      return;
    }
    const jobs = await acceptJobs(requests, trigger);
    ctx.status = 202;
    ctx.body = { jobs };
  });
  return router;
}

function parseMessage(envelope: SnsEnvelope): unknown {
  try {
    return JSON.parse(envelope.Message) as unknown;
  } catch (error) {
    throw new AppError(
      'invalid_json',
      `The SNS notification's Message is not JSON (${(error as Error).message.replace(/\.$/, '')}); an S3 event notification was expected.`,
      { cause: error },
    );
  }
}
