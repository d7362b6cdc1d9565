import { PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { postTrigger } from '../../helpers/post-trigger.ts';
import { CERT_URL, createSnsTestSigner, TOPIC_ARN, type SnsTestSigner } from '../../helpers/sns-test-signer.ts';
import { startTestService, type TestService } from '../../helpers/test-service.ts';

const SNS_TEXT = { 'content-type': 'text/plain; charset=UTF-8' };

function s3Event(key: string, eTag = 'd41d8cd98f00b204e9800998ecf8427e') {
  return {
    Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'ingest' }, object: { key, size: 8, eTag } } }],
  };
}

describe('POST /v1/trigger with SNS deliveries', () => {
  let svc: TestService;
  let signer: SnsTestSigner;

  before(async () => {
    signer = createSnsTestSigner();
    svc = await startTestService({ snsFetch: (url) => signer.fetch(url), embeddedS3Events: false });
    await svc.service.s3.send(new PutObjectCommand({ Bucket: 'ingest', Key: 'sns/a.csv', Body: 'a,b\n1,2\n' }));
  });
  after(async () => svc.stop());
  beforeEach(() => {
    signer.fetched.length = 0;
    signer.answers.clear();
  });

  const deliver = (envelope: object, type = (envelope as { Type: string }).Type) =>
    postTrigger(svc, JSON.stringify(envelope), { ...SNS_TEXT, 'x-amz-sns-message-type': type });

  it('should accept a Notification signed with SignatureVersion 2 and queue its S3 event (trigger sns)', async () => {
    const answer = await deliver(signer.notification(s3Event('sns/a.csv', 'aaaa1111')));
    expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
    expect(answer.body.jobs).to.have.length(1);
    expect(answer.body.jobs[0]).to.include({ trigger: 'sns', status: 'queued' });
    expect(answer.body.jobs[0].source).to.include({ bucket: 'ingest', key: 'sns/a.csv', etag: '"aaaa1111"' });
  });

  it('should accept a Notification signed with SignatureVersion 1 (SHA1)', async () => {
    const answer = await deliver(signer.notification(s3Event('sns/a.csv', 'bbbb2222'), { SignatureVersion: '1' }));
    expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
  });

  it('should verify a Notification without a Subject', async () => {
    const answer = await deliver(signer.notification(s3Event('sns/a.csv', 'cccc3333'), { Subject: undefined }));
    expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
  });

  it('should fetch a signing certificate once and serve later messages from its cache', async () => {
    const url = 'https://sns.ap-southeast-2.amazonaws.com/cached.pem';
    signer.answers.set(url, { status: 200, body: signer.certificate });
    for (let i = 0; i < 3; i += 1) {
      expect((await deliver(signer.notification({ Event: 's3:TestEvent' }, { SigningCertURL: url }))).status).to.equal(
        200,
      );
    }
    expect(signer.fetched.filter((fetched) => fetched === url)).to.have.length(1);
  });

  it('should serve `?query` variants of a certificate URL from the one cached certificate, fetched without the query', async () => {
    const url = 'https://sns.ap-northeast-1.amazonaws.com/query.pem';
    signer.answers.set(url, { status: 200, body: signer.certificate });
    for (const suffix of ['?x', '?y', '', '?x#frag']) {
      expect(
        (await deliver(signer.notification({ Event: 's3:TestEvent' }, { SigningCertURL: `${url}${suffix}` }))).status,
        suffix,
      ).to.equal(200);
    }
    expect(signer.fetched).to.deep.equal([url]);
  });

  it('should refuse a correctly signed message from 2001 (a replay) with 403 naming the Timestamp', async () => {
    const answer = await deliver(
      signer.notification(s3Event('sns/a.csv', 'abab1212'), { Timestamp: '2001-09-09T01:46:40.000Z' }),
    );
    expect(answer.status).to.equal(403);
    expect(answer.body.error.code).to.equal('forbidden');
    expect(answer.body.error.message).to.match(/Timestamp 2001-09-09T01:46:40.000Z is more than an hour old/);
  });

  it('should refuse a correctly signed message dated more than 5 minutes ahead with 403', async () => {
    const answer = await deliver(
      signer.notification(s3Event('sns/a.csv', 'cdcd3434'), {
        Timestamp: new Date(Date.now() + 10 * 60_000).toISOString(),
      }),
    );
    expect(answer.status).to.equal(403);
    expect(answer.body.error.message).to.match(/in the future/);
  });

  it('should answer an S3 test event inside a Notification with 200 and no jobs', async () => {
    const answer = await deliver(
      signer.notification({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'ingest' }),
    );
    expect(answer.status).to.equal(200);
    expect(answer.body).to.deep.equal({ jobs: [] });
  });

  it('should refuse a forged message (a field changed after signing) with 403', async () => {
    const envelope = signer.notification(s3Event('sns/a.csv', 'dddd4444'));
    const answer = await deliver({ ...envelope, Message: JSON.stringify(s3Event('sns/other.csv', 'dddd4444')) });
    expect(answer.status).to.equal(403);
    expect(answer.body.error.code).to.equal('forbidden');
    expect(answer.body.error.message).to.match(/signature does not verify/);
  });

  it('should refuse a signature made by another key', async () => {
    const other = createSnsTestSigner();
    const answer = await deliver(other.notification(s3Event('sns/a.csv')));
    expect(answer.status).to.equal(403);
  });

  it('should refuse a SigningCertURL that is not https://sns.<region>.amazonaws.com/ without fetching it', async () => {
    for (const url of [
      'https://sns.us-east-1.amazonaws.com.evil.example/cert.pem',
      'http://sns.us-east-1.amazonaws.com/cert.pem',
      'https://evil.example/sns.us-east-1.amazonaws.com/cert.pem',
      'https://sns.us-east-1.amazonaws.com:8443/cert.pem',
      'https://user@sns.us-east-1.amazonaws.com/cert.pem',
      'https://s3.us-east-1.amazonaws.com/cert.pem',
      'https://sns.us-east-1.amazonaws.com/cert.txt',
      'not a url',
    ]) {
      const answer = await deliver(signer.notification(s3Event('sns/a.csv'), { SigningCertURL: url }));
      expect(answer.status, url).to.equal(403);
      expect(answer.body.error.message, url).to.match(/SigningCertURL/);
    }
    expect(signer.fetched).to.deep.equal([]);
  });

  it('should refuse a certificate URL that serves no certificate with 403', async () => {
    const url = 'https://sns.eu-west-1.amazonaws.com/missing.pem';
    const answer = await deliver(signer.notification(s3Event('sns/a.csv'), { SigningCertURL: url }));
    expect(answer.status).to.equal(403);
    signer.answers.set(url, { status: 200, body: 'not a certificate' });
    expect((await deliver(signer.notification(s3Event('sns/a.csv'), { SigningCertURL: url }))).status).to.equal(403);
  });

  it('should answer 403 when the certificate cannot be fetched now (the sender chose the URL), and fetch it again next time', async () => {
    const url = 'https://sns.eu-central-1.amazonaws.com/later.pem';
    signer.answers.set(url, new Error('connect ETIMEDOUT'));
    const answer = await deliver(signer.notification(s3Event('sns/a.csv'), { SigningCertURL: url }));
    expect(answer.status).to.equal(403);
    expect(answer.body.error.message).to.match(/could not be fetched.*ETIMEDOUT/);
    signer.answers.set(url, { status: 200, body: signer.certificate });
    expect(
      (await deliver(signer.notification(s3Event('sns/a.csv', 'eeee5555'), { SigningCertURL: url }))).status,
    ).to.equal(202);
  });

  it('should confirm a SubscriptionConfirmation by fetching its SubscribeURL', async () => {
    const subscribeUrl = `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TOPIC_ARN)}&Token=abc`;
    const envelope = signer.sign({
      Type: 'SubscriptionConfirmation',
      MessageId: 'm-1',
      TopicArn: TOPIC_ARN,
      Token: 'abc',
      Message: 'You have chosen to subscribe to the topic.',
      SubscribeURL: subscribeUrl,
      Timestamp: new Date().toISOString(),
      SignatureVersion: '2',
      SigningCertURL: CERT_URL,
    });
    const answer = await deliver(envelope);
    expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
    expect(answer.body).to.deep.equal({ jobs: [], subscription: { topicArn: TOPIC_ARN, status: 'confirmed' } });
    expect(signer.fetched).to.include(subscribeUrl);
  });

  it('should answer 502 sns_unreachable when a verified confirmation cannot be confirmed now (SNS delivers it again)', async () => {
    const subscribeUrl = 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=down';
    signer.answers.set(subscribeUrl, new Error('socket hang up'));
    const envelope = signer.sign({
      Type: 'SubscriptionConfirmation',
      MessageId: 'm-4',
      TopicArn: TOPIC_ARN,
      Token: 'down',
      Message: 'x',
      SubscribeURL: subscribeUrl,
      Timestamp: new Date().toISOString(),
      SignatureVersion: '1',
      SigningCertURL: CERT_URL,
    });
    const answer = await deliver(envelope);
    expect(answer.status).to.equal(502);
    expect(answer.body.error.code).to.equal('sns_unreachable');
  });

  it('should refuse a SubscriptionConfirmation whose SubscribeURL is on another host, without fetching it', async () => {
    const envelope = signer.sign({
      Type: 'SubscriptionConfirmation',
      MessageId: 'm-2',
      TopicArn: TOPIC_ARN,
      Token: 'abc',
      Message: 'x',
      SubscribeURL: 'https://evil.example/?Action=ConfirmSubscription',
      Timestamp: new Date().toISOString(),
      SignatureVersion: '2',
      SigningCertURL: CERT_URL,
    });
    const answer = await deliver(envelope);
    expect(answer.status).to.equal(403);
    expect(signer.fetched.some((url) => url.includes('evil'))).to.equal(false);
  });

  it('should refuse a SubscriptionConfirmation with a forged SubscribeURL (not signed)', async () => {
    const envelope = signer.sign({
      Type: 'SubscriptionConfirmation',
      MessageId: 'm-3',
      TopicArn: TOPIC_ARN,
      Token: 'abc',
      Message: 'x',
      SubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=abc',
      Timestamp: new Date().toISOString(),
      SignatureVersion: '2',
      SigningCertURL: CERT_URL,
    });
    const answer = await deliver({
      ...envelope,
      SubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=other',
    });
    expect(answer.status).to.equal(403);
    expect(signer.fetched.filter((url) => url.includes('Token=other'))).to.deep.equal([]);
  });

  it('should refuse an unsigned raw-delivery body and a header that disagrees with the Type', async () => {
    const raw = await postTrigger(svc, JSON.stringify(s3Event('sns/a.csv')), {
      ...SNS_TEXT,
      'x-amz-sns-message-type': 'Notification',
    });
    expect(raw.status).to.equal(403);
    const mismatch = await deliver(signer.notification(s3Event('sns/a.csv')), 'SubscriptionConfirmation');
    expect(mismatch.status).to.equal(403);
  });

  it('should verify an SNS envelope even without the header (detected by schema, fifth)', async () => {
    const envelope = signer.notification(s3Event('sns/a.csv', 'ffff6666'));
    // Without the header, text/plain is refused (415): the envelope comes as JSON.
    expect((await postTrigger(svc, JSON.stringify(envelope))).status).to.equal(202);
    expect((await postTrigger(svc, JSON.stringify({ ...envelope, Signature: 'AAAA' }))).status).to.equal(403);
  });

  it('should answer a verified Notification whose Message is not an S3 event with 400', async () => {
    const notJson = await deliver(signer.notification(undefined, { Message: 'plain words' }));
    expect(notJson.status).to.equal(400);
    expect(notJson.body.error.code).to.equal('invalid_json');
    const other = await deliver(signer.notification({ hello: 'world' }));
    expect(other.status).to.equal(400);
    expect(other.body.error.code).to.equal('validation_failed');
  });
});

describe('POST /v1/trigger with SNS deliveries and SNS_TOPIC_ARNS', () => {
  const allowed = 'arn:aws:sns:us-east-1:123456789012:allowed-topic';
  let svc: TestService;
  let signer: SnsTestSigner;

  before(async () => {
    signer = createSnsTestSigner();
    svc = await startTestService({
      env: { SNS_TOPIC_ARNS: `arn:aws:sns:eu-west-1:123456789012:other, ${allowed}` },
      snsFetch: (url) => signer.fetch(url),
      embeddedS3Events: false,
    });
  });
  after(async () => svc.stop());

  const deliver = (envelope: { Type: string }) =>
    postTrigger(svc, JSON.stringify(envelope), { ...SNS_TEXT, 'x-amz-sns-message-type': envelope.Type });

  it('should refuse a correctly signed delivery from a topic not listed with 403, without fetching the certificate', async () => {
    const answer = await deliver(signer.notification(s3Event('sns/a.csv')));
    expect(answer.status).to.equal(403);
    expect(answer.body.error.code).to.equal('forbidden');
    expect(answer.body.error.message).to.match(new RegExp(`topic ${TOPIC_ARN} is not in SNS_TOPIC_ARNS`));
    expect(signer.fetched).to.deep.equal([]);
  });

  it('should refuse a subscription confirmation from a topic not listed, without confirming it', async () => {
    const envelope = signer.sign({
      Type: 'SubscriptionConfirmation',
      MessageId: 'm-9',
      TopicArn: TOPIC_ARN,
      Token: 'abc',
      Message: 'x',
      SubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=abc',
      Timestamp: new Date().toISOString(),
      SignatureVersion: '2',
      SigningCertURL: CERT_URL,
    });
    expect((await deliver(envelope)).status).to.equal(403);
    expect(signer.fetched).to.deep.equal([]);
  });

  it('should accept a delivery from a listed topic', async () => {
    const answer = await deliver(signer.notification({ Event: 's3:TestEvent' }, { TopicArn: allowed }));
    expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
  });
});
