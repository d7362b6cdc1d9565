import { expect } from 'chai';
import { createSnsVerifier } from '../../../src/http/sns/create-sns-verifier.ts';
import type { AppError } from '../../../src/errors.ts';
import { createSnsTestSigner } from '../../helpers/sns-test-signer.ts';

describe('createSnsVerifier', () => {
  const signer = createSnsTestSigner();
  const urls = ['a', 'b', 'c'].map((name) => `https://sns.us-east-1.amazonaws.com/${name}.pem`);

  const refusal = async (promise: Promise<unknown>): Promise<AppError> => {
    try {
      await promise;
    } catch (error) {
      return error as AppError;
    }
    throw new Error('expected a refusal');
  };

  it('should keep at most maxCertificates, dropping the least recently used', async () => {
    const fetched: string[] = [];
    const verifier = createSnsVerifier({ maxCertificates: 2, fetch: async (url) => (fetched.push(url.href), { status: 200, body: signer.certificate }) });
    const verify = (url: string) => verifier.verify(signer.notification({ Event: 's3:TestEvent' }, { SigningCertURL: url }));
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
    const verifier = createSnsVerifier({ fetch: async () => (fetches += 1, await new Promise((resolve) => setTimeout(resolve, 20)), { status: 200, body: signer.certificate }) });
    await Promise.all([1, 2, 3].map(() => verifier.verify(signer.notification({ Event: 's3:TestEvent' }))));
    expect(fetches).to.equal(1);
  });

  it('should refuse a certificate that is not valid now', async () => {
    const verifier = createSnsVerifier({ fetch: async () => ({ status: 200, body: signer.certificate }), now: () => new Date('2000-01-01T00:00:00Z') });
    const error = await refusal(verifier.verify(signer.notification({ Event: 's3:TestEvent' })));
    expect(error.code).to.equal('forbidden');
    expect(error.message).to.match(/not valid at this time/);
  });

  it('should refuse a signature that is not base64 of the right signature', async () => {
    const verifier = createSnsVerifier({ fetch: async () => ({ status: 200, body: signer.certificate }) });
    const envelope = signer.notification({ Event: 's3:TestEvent' });
    for (const signature of ['!!!', '', envelope.Signature.slice(4), `${envelope.Signature}AAAA`]) {
      expect((await refusal(verifier.verify({ ...envelope, Signature: signature }))).code).to.equal('forbidden');
    }
    const swapped = await refusal(verifier.verify({ ...envelope, SignatureVersion: '1' }));
    expect(swapped.code).to.equal('forbidden');
  });
});
