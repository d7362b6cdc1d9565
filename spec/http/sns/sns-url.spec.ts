import { expect } from 'chai';
import { snsUrl } from '../../../src/http/sns/sns-url.ts';

describe('snsUrl', () => {
  for (const url of [
    'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem',
    'https://sns.eu-central-1.amazonaws.com/x.pem',
    'https://sns.us-gov-west-1.amazonaws.com/x.pem',
    'https://sns.ap-southeast-2.amazonaws.com/?Action=ConfirmSubscription&Token=t',
    'https://SNS.US-EAST-1.AMAZONAWS.COM/x.pem',
    'https://sns.us-east-1.amazonaws.com:443/x.pem',
  ]) {
    it(`should accept ${url}`, () => {
      expect(snsUrl(url)).to.be.instanceOf(URL);
    });
  }

  for (const url of [
    'http://sns.us-east-1.amazonaws.com/x.pem',
    'https://sns.us-east-1.amazonaws.com.evil.example/x.pem',
    'https://evil.example/?sns.us-east-1.amazonaws.com',
    'https://evil.example#@sns.us-east-1.amazonaws.com/',
    'https://sns.us-east-1.amazonaws.com@evil.example/x.pem',
    'https://user:pw@sns.us-east-1.amazonaws.com/x.pem',
    'https://sns.us-east-1.amazonaws.com:8443/x.pem',
    'https://sqs.us-east-1.amazonaws.com/x.pem',
    'https://sns.amazonaws.com/x.pem',
    'https://sns.us-east-1.amazonaws.com.cn/x.pem',
    'https://x.sns.us-east-1.amazonaws.com/x.pem',
    'https://sns.us_east-1.amazonaws.com/x.pem',
    'https://sns.us-east-1.amazonaws.com./x.pem',
    'file:///etc/passwd',
    'not a url',
    '',
  ]) {
    it(`should refuse ${JSON.stringify(url)}`, () => {
      expect(snsUrl(url)).to.equal(undefined);
    });
  }
});
