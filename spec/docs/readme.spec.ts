import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { envSchema } from '../../src/config/config-schema.ts';
import { ERROR_CODES } from '../../src/errors.ts';

const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');

function section(name: string): string {
  const start = readme.indexOf(`<!-- ${name}:start -->`);
  const end = readme.indexOf(`<!-- ${name}:end -->`);
  expect(start, `README section ${name}`).to.be.greaterThan(-1);
  return readme.slice(start, end);
}

describe('README', () => {
  it('should list every error code with its status and retryability, and no other', () => {
    const rows = [...section('error-codes').matchAll(/^\| `(\w+)` \| (\d+) \| (yes|no) \|/gm)].map((m) => [
      m[1],
      Number(m[2]),
      m[3] === 'yes',
    ]);
    const codes = Object.entries(ERROR_CODES).map(([code, spec]) => [code, spec.status, spec.retryable]);
    expect(rows).to.have.deep.members(codes);
  });

  it('should document every configuration variable the schema reads', () => {
    const table = section('config');
    for (const name of Object.keys(envSchema.shape)) {
      expect(table, name).to.include(`\`${name}\``);
    }
  });

  it('should hold the two quick-start commands', () => {
    expect(readme).to.include('npm ci && npm start');
    expect(readme).to.include('npm ci && npm test');
  });
});
