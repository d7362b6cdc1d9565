import { expect } from 'chai';
import { createSnsVerifier } from '../../../src/http/sns/create-sns-verifier.ts';
import { createSnsTestSigner } from '../../helpers/sns-test-signer.ts';
import { rejectionOf } from '../../helpers/rejection-of.ts';

describe('createSnsVerifier', () => {
  const signer = createSnsTestSigner();
  const urls = ['a', 'b', 'c'].map((name) => `https://sns.us-east-1.amazonaws.com/${name}.pem`);

  it('should keep at most maxCertificates, dropping the least recently used', async () => {
    const fetched: string[] = [];
    const verifier = createSnsVerifier({
      maxCertificates: 2,
      fetch: async (url) => (fetched.push(url.href), { status: 200, body: signer.certificate }),
    });
    const verify = (url: string) =>
      verifier.verify(signer.notification({ Event: 's3:TestEvent' }, { SigningCertURL: url }));
    await verify(urls[0]!);
    await verify(urls[1]!);
    await verify(urls[0]!); // a is now the most recently used
    await verify(urls[2]!); // drops b
    await verify(urls[0]!);
    await verify(urls[1]!);
    expect(fetched).to.deep.equal([urls[0], urls[1], urls[2], urls[1]]);
  });

  it('should share one fetch between concurrent messages', async () => {
    let fetches = 0;
    const verifier = createSnsVerifier({
      fetch: async () => (
        (fetches += 1),
        await new Promise((resolve) => setTimeout(resolve, 20)),
        { status: 200, body: signer.certificate }
      ),
    });
    await Promise.all([1, 2, 3].map(() => verifier.verify(signer.notification({ Event: 's3:TestEvent' }))));
    expect(fetches).to.equal(1);
  });

  it('should refuse a certificate that is not valid now', async () => {
    const verifier = createSnsVerifier({
      fetch: async () => ({ status: 200, body: signer.certificate }),
      now: () => new Date('2000-01-01T00:00:00Z'),
    });
    const error = await rejectionOf(
      verifier.verify(signer.notification({ Event: 's3:TestEvent' }, { Timestamp: '2000-01-01T00:00:00.000Z' })),
    );
    expect(error.code).to.equal('forbidden');
    expect(error.message).to.match(/not valid at this time/);
  });

  it('should refuse a signature that is not base64 of the right signature', async () => {
    const verifier = createSnsVerifier({ fetch: async () => ({ status: 200, body: signer.certificate }) });
    const envelope = signer.notification({ Event: 's3:TestEvent' });
    for (const signature of ['!!!', '', envelope.Signature.slice(4), `${envelope.Signature}AAAA`]) {
      expect((await rejectionOf(verifier.verify({ ...envelope, Signature: signature }))).code).to.equal('forbidden');
    }
    const swapped = await rejectionOf(verifier.verify({ ...envelope, SignatureVersion: '1' }));
    expect(swapped.code).to.equal('forbidden');
  });

  it('should key the cache by the URL without query and fragment, and fetch it without them', async () => {
    const fetched: string[] = [];
    const verifier = createSnsVerifier({
      fetch: async (url) => (fetched.push(url.href), { status: 200, body: signer.certificate }),
    });
    for (const suffix of ['', '?x', '?x=2', '#f', '?Action=y#z']) {
      await verifier.verify(signer.notification({ Event: 's3:TestEvent' }, { SigningCertURL: `${urls[0]}${suffix}` }));
    }
    expect(fetched).to.deep.equal([urls[0]]);
  });

  it('should keep the cache at maxCertificates however many query strings a sender tries', async () => {
    const fetched: string[] = [];
    const verifier = createSnsVerifier({
      maxCertificates: 1,
      fetch: async (url) => (fetched.push(url.href), { status: 200, body: signer.certificate }),
    });
    await verifier.verify(signer.notification({ Event: 's3:TestEvent' }, { SigningCertURL: urls[0]! }));
    for (let i = 0; i < 20; i += 1) {
      // Forged (unsigned) messages with fresh queries neither fetch nor evict the certificate.
      const forged = {
        ...signer.notification({ Event: 's3:TestEvent' }, { SigningCertURL: `${urls[0]}?bust=${i}` }),
        Message: 'changed',
      };
      expect((await rejectionOf(verifier.verify(forged))).message).to.match(/signature does not verify/);
    }
    await verifier.verify(signer.notification({ Event: 's3:TestEvent' }, { SigningCertURL: urls[0]! }));
    expect(fetched).to.deep.equal([urls[0]]);
  });

  it('should refuse a topic outside topicArns before fetching anything, and accept one in it', async () => {
    const fetched: string[] = [];
    const allowed = 'arn:aws:sns:us-east-1:123456789012:allowed';
    const verifier = createSnsVerifier({
      topicArns: [allowed],
      fetch: async (url) => (fetched.push(url.href), { status: 200, body: signer.certificate }),
    });
    const error = await rejectionOf(verifier.verify(signer.notification({ Event: 's3:TestEvent' })));
    expect(error.code).to.equal('forbidden');
    expect(error.message).to.match(/topic arn:aws:sns:us-east-1:123456789012:ingest-events is not in SNS_TOPIC_ARNS/);
    expect(fetched).to.deep.equal([]);
    await verifier.verify(signer.notification({ Event: 's3:TestEvent' }, { TopicArn: allowed }));
  });

  describe('replay window', () => {
    // The spec's certificate is valid from today for 2 days.
    const now = new Date();
    const verifier = createSnsVerifier({
      fetch: async () => ({ status: 200, body: signer.certificate }),
      now: () => now,
    });
    const at = (offsetMs: number) => new Date(now.getTime() + offsetMs).toISOString();

    for (const [label, timestamp, reason] of [
      ['from 2001', '2001-09-09T01:46:40.000Z', /Timestamp 2001-09-09T01:46:40.000Z is more than an hour old/],
      ['an hour and 1 ms old', at(-3_600_001), /more than an hour old/],
      ['5 minutes and 1 ms ahead', at(300_001), /more than 5 minutes in the future/],
      ['"yesterday"', 'yesterday', /Timestamp "yesterday" is not an ISO-8601 UTC time/],
      ['with an offset instead of Z', at(0).replace('Z', '+00:00'), /not an ISO-8601 UTC time/],
    ] as const) {
      it(`should refuse a signed message with a Timestamp ${label}`, async () => {
        const error = await rejectionOf(
          verifier.verify(signer.notification({ Event: 's3:TestEvent' }, { Timestamp: timestamp })),
        );
        expect(error.code).to.equal('forbidden');
        expect(error.message).to.match(reason);
      });
    }

    it('should accept a Timestamp up to an hour old or 5 minutes ahead', async () => {
      for (const offset of [-3_600_000, -1, 0, 300_000]) {
        await verifier.verify(signer.notification({ Event: 's3:TestEvent' }, { Timestamp: at(offset) }));
      }
    });
  });
});
