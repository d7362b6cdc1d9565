import { expect } from 'chai';
import { createRequire } from 'node:module';
import os from 'node:os';
import S3rver from 's3rver';
import { assertS3rverInternals } from '../../src/storage/assert-s3rver-internals.ts';

const require = createRequire(import.meta.url);
const installed = (require('s3rver/package.json') as { version: string }).version;
const S3Error = require('s3rver/lib/models/error.js') as unknown;

describe('assertS3rverInternals', () => {
  const server = () => new S3rver({ port: 0, address: '127.0.0.1', directory: os.tmpdir(), silent: true });

  it('should pass the installed s3rver, whose internals the patches replace', () => {
    expect(() => assertS3rverInternals(server(), installed, S3Error)).not.to.throw();
  });

  it('should refuse another version, naming it', () => {
    expect(() => assertS3rverInternals(server(), '3.8.0', S3Error)).to.throw(
      /^The embedded S3 server's patches of s3rver .*the installed version is 3\.8\.0, the patches are written for 3\.7/,
    );
  });

  it('should name every internal that is missing or changed', () => {
    const changed = server() as unknown as { store: Record<string, unknown>; middleware: unknown };
    changed.store['putObjectMultipart'] = undefined;
    changed.store['getResourcePath'] = 'a path';
    changed.middleware = undefined;
    expect(() => assertS3rverInternals(changed, installed, undefined)).to.throw(
      "s3rver's middleware is missing, not an array; s3rver's store.getResourcePath is of type string, not a function; s3rver's store.putObjectMultipart is missing, not a function; s3rver/lib/models/error.js does not export its error class.",
    );
  });
});
