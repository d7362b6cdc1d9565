import { expect } from 'chai';
import type { AppError } from '../../../src/errors.ts';
import { readTrigger, type TriggerRead } from '../../../src/http/triggers/read-trigger.ts';

const options = { inputBucket: 'ingest', snsMessageType: undefined };
const created = (key: string) => ({
  eventName: 'ObjectCreated:Put',
  s3: { bucket: { name: 'b-1' }, object: { key, eTag: 'e' } },
});
const envelope = {
  Type: 'Notification',
  MessageId: 'm',
  TopicArn: 't',
  Message: '{}',
  Timestamp: 'now',
  SignatureVersion: '2',
  Signature: 'AAAA',
  SigningCertURL: 'https://sns.us-east-1.amazonaws.com/c.pem',
};

function refusal(body: unknown, snsMessageType?: string): AppError {
  try {
    readTrigger(body, { ...options, snsMessageType });
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected a refusal');
}

describe('readTrigger', () => {
  it('should read each shape as its trigger', () => {
    const jobs = (read: TriggerRead) =>
      read.kind === 'jobs'
        ? [read.trigger, read.requests.map((request) => `${request.bucket}/${request.key}`)]
        : read.kind;
    expect(jobs(readTrigger({ key: 'a' }, options))).to.deep.equal(['rest', ['ingest/a']]);
    expect(jobs(readTrigger({ object: { key: 'a' } }, options))).to.deep.equal(['rest', ['ingest/a']]);
    expect(jobs(readTrigger({ Records: [created('a+b')] }, options))).to.deep.equal(['s3-event', ['b-1/a b']]);
    expect(
      jobs(
        readTrigger(
          {
            source: 'aws.s3',
            'detail-type': 'Object Created',
            detail: { bucket: { name: 'b-1' }, object: { key: 'a+b' } },
          },
          options,
        ),
      ),
    ).to.deep.equal(['eventbridge', ['b-1/a+b']]);
    expect(jobs(readTrigger(envelope, options))).to.equal('sns');
  });

  it('should read an S3 event that carries extra top-level fields (REST is strict, so it does not match first)', () => {
    const read = readTrigger({ key: 'ignored', Records: [created('x')] }, options);
    expect(read).to.include({ kind: 'jobs', trigger: 's3-event' });
  });

  it('should read only an SNS envelope when the SNS header is sent', () => {
    expect(refusal({ key: 'a' }, 'Notification').code).to.equal('forbidden');
    expect(readTrigger(envelope, { ...options, snsMessageType: 'Notification' })).to.include({ kind: 'sns' });
  });

  it('should explain a failure with the errors of the shape the body looks like', () => {
    expect(refusal({ object: { key: '' } }).message).to.match(/object trigger .*object\.key/);
    expect(refusal({ Records: [{ eventName: 'ObjectCreated:Put', s3: {} }] }).message).to.match(
      /S3 event .*Records\.0\.s3\.bucket/,
    );
    expect(refusal({ source: 'aws.s3', 'detail-type': 'Object Created', detail: {} }).message).to.match(
      /EventBridge event .*detail\.bucket/,
    );
    expect(refusal({ ...envelope, SignatureVersion: '3' }).code).to.equal('forbidden');
    expect(refusal({ bucket: 'ingest' }).message).to.match(/trigger .*key/);
    expect(refusal([1, 2]).code).to.equal('validation_failed');
  });
});
