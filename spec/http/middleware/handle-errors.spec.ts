import { expect } from 'chai';
import Koa from 'koa';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { AppError } from '../../../src/errors.ts';
import { handleErrors } from '../../../src/http/middleware/handle-errors.ts';
import { createLogger } from '../../../src/logging/create-logger.ts';

describe('handleErrors', () => {
  let server: Server;
  let url: string;
  const lines: Record<string, unknown>[] = [];

  before(async () => {
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
    });
    const app = new Koa();
    app.silent = true;
    app.use(handleErrors(createLogger({ level: 'debug', format: 'json', stream })));
    app.use((ctx) => {
      if (ctx.path === '/closing')
        throw new AppError('shutting_down', 'The service is shutting down and accepts no new jobs.', {
          headers: { 'Retry-After': '5' },
        });
      if (ctx.path === '/bug') throw new TypeError('cannot read x of undefined');
      throw new AppError('not_found', 'No such thing.');
    });
    server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(
    async () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  );
  beforeEach(() => {
    lines.length = 0;
  });

  it('should log a refusal the service means (503 shutting_down) as one warn line, without a stack', async () => {
    const response = await fetch(`${url}/closing`);
    expect(response.status).to.equal(503);
    expect(response.headers.get('retry-after')).to.equal('5');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({ level: 'warn', message: 'request refused', code: 'shutting_down', path: '/closing' });
    expect(JSON.stringify(lines[0])).not.to.include('    at ');
  });

  it('should log an internal fault at error with its stack, and answer a generic message', async () => {
    const response = await fetch(`${url}/bug`);
    expect(response.status).to.equal(500);
    expect(((await response.json()) as { error: { message: string } }).error.message).to.equal(
      'An internal error occurred; it has been logged.',
    );
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({ level: 'error', message: 'request failed', code: 'internal' });
    expect((lines[0]!['error'] as { stack: string }).stack).to.include('TypeError: cannot read x of undefined');
  });

  it('should not log a client error', async () => {
    expect((await fetch(`${url}/other`)).status).to.equal(404);
    expect(lines).to.deep.equal([]);
  });
});
