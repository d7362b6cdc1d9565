import { expect } from 'chai';
import { snsStringToSign } from '../../../src/http/sns/sns-string-to-sign.ts';
import type { SnsEnvelope } from '../../../src/http/triggers/sns-envelope.ts';

const common = {
  MessageId: 'id-1',
  TopicArn: 'arn:t',
  Message: 'line 1\nline 2',
  Timestamp: '2024-02-12T00:00:00.000Z',
  SignatureVersion: '2',
  Signature: 'sig',
  SigningCertURL: 'https://sns.us-east-1.amazonaws.com/c.pem',
} as const;

describe('snsStringToSign', () => {
  it('should sign a Notification as Message, MessageId, Subject, Timestamp, TopicArn, Type, each name\\nvalue\\n', () => {
    const envelope: SnsEnvelope = {
      ...common,
      Type: 'Notification',
      Subject: 'Hi',
      Token: 'ignored',
      SubscribeURL: 'ignored',
    };
    expect(snsStringToSign(envelope)).to.equal(
      'Message\nline 1\nline 2\nMessageId\nid-1\nSubject\nHi\nTimestamp\n2024-02-12T00:00:00.000Z\nTopicArn\narn:t\nType\nNotification\n',
    );
  });

  it('should leave Subject out when it is absent or null', () => {
    const expected =
      'Message\nline 1\nline 2\nMessageId\nid-1\nTimestamp\n2024-02-12T00:00:00.000Z\nTopicArn\narn:t\nType\nNotification\n';
    expect(snsStringToSign({ ...common, Type: 'Notification' })).to.equal(expected);
    expect(snsStringToSign({ ...common, Type: 'Notification', Subject: null })).to.equal(expected);
  });

  it('should sign confirmations with SubscribeURL and Token, and no Subject', () => {
    const envelope: SnsEnvelope = {
      ...common,
      Type: 'UnsubscribeConfirmation',
      Subject: 'no',
      SubscribeURL: 'https://s',
      Token: 'tok',
    };
    expect(snsStringToSign(envelope)).to.equal(
      'Message\nline 1\nline 2\nMessageId\nid-1\nSubscribeURL\nhttps://s\nTimestamp\n2024-02-12T00:00:00.000Z\nToken\ntok\nTopicArn\narn:t\nType\nUnsubscribeConfirmation\n',
    );
  });

  it('should refuse a confirmation without SubscribeURL or Token', () => {
    expect(snsStringToSign({ ...common, Type: 'SubscriptionConfirmation', Token: 'tok' })).to.equal(undefined);
    expect(snsStringToSign({ ...common, Type: 'SubscriptionConfirmation', SubscribeURL: 'https://s' })).to.equal(
      undefined,
    );
  });
});
