import { expect } from 'chai';
import { Validator } from '@seriousme/openapi-schema-validator';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import openapiTS from 'openapi-typescript';
import ts from 'typescript';
import { z } from 'zod';
import { errorBody, job, jobList, uploadAnswer } from '../../../src/http/openapi/response-schemas.ts';
import { listJobsQuery } from '../../../src/http/request-schemas.ts';
import { restTrigger } from '../../../src/http/triggers/rest-trigger.ts';
import { appRoutes } from '../../helpers/app-routes.ts';
import { startTestService, waitForJob, type TestService } from '../../helpers/test-service.ts';

type Document = {
  openapi: string;
  info: { version: string };
  paths: Record<
    string,
    Record<
      string,
      {
        operationId: string;
        parameters?: { name: string; schema: unknown }[];
        requestBody?: unknown;
        responses: Record<string, unknown>;
      }
    >
  >;
  components: Record<string, Record<string, unknown>>;
};

/** Every route of the app, read from its routers: `[METHOD, OpenAPI path]`. */
function documentedRoutes(): [string, string][] {
  return appRoutes().map(({ method, path }) => [method, path.replace(/:(\w+)/g, '{$1}')]);
}

describe('openapiRoutes', () => {
  let svc: TestService;
  let doc: Document;

  before(async () => {
    svc = await startTestService({ env: { API_TOKEN: 'openapi-token' }, embeddedS3Events: false });
    const response = await fetch(new URL('/openapi.json', svc.url));
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^application\/json/);
    doc = (await response.json()) as Document;
  });
  after(async () => svc.stop());

  it('should serve an OpenAPI 3.1 document without auth, with the package version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(doc.openapi).to.equal('3.1.0');
    expect(doc.info.version).to.equal(pkg.version);
  });

  it('should describe every route of the app, and no route the app lacks', () => {
    const routes = documentedRoutes();
    expect(routes.length).to.be.at.least(14);
    const documented = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => [method.toUpperCase(), path]),
    );
    expect(documented).to.have.deep.members(routes);
  });

  it('should resolve every $ref, and give every operation a unique id and responses', () => {
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    for (const ref of new Set(refs)) {
      const [, section, name] = /#\/components\/(\w+)\/(\w+)"$/.exec(ref) ?? [];
      expect(doc.components[section!]?.[name!], ref).to.exist;
    }
    // A component that is only a reference must not lead back to itself (validators recurse forever on it).
    for (const start of Object.keys(doc.components['schemas']!)) {
      const seen = new Set<string>();
      let name: string | undefined = start;
      while (name !== undefined) {
        expect(seen.has(name), `components.schemas.${start} refers back to ${name}`).to.equal(false);
        seen.add(name);
        const ref: string | undefined = (doc.components['schemas']![name] as { $ref?: string }).$ref;
        name = ref === undefined ? undefined : /^#\/components\/schemas\/(\w+)$/.exec(ref)?.[1];
      }
    }
    const ids = Object.values(doc.paths).flatMap((operations) =>
      Object.values(operations).map((operation) => operation.operationId),
    );
    expect(new Set(ids).size).to.equal(ids.length);
    for (const operations of Object.values(doc.paths))
      for (const operation of Object.values(operations)) expect(Object.keys(operation.responses)).not.to.be.empty;
  });

  it('should take request schemas from the zod schemas that validate the requests', () => {
    const expected = (schema: z.ZodType) => {
      const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
        target: 'draft-2020-12',
        io: 'input',
        unrepresentable: 'any',
      }) as Record<string, unknown>;
      return rest;
    };
    expect(doc.components['schemas']!['REST']).to.deep.equal(expected(restTrigger));
    const list = doc.paths['/v1/jobs']!['get']!.parameters!;
    expect(list.map((parameter) => parameter.name)).to.deep.equal(Object.keys(listJobsQuery.shape));
    expect(list.find((parameter) => parameter.name === 'limit')!.schema).to.deep.equal(
      expected(listJobsQuery.shape.limit),
    );
  });

  it('should describe what the service really answers', async () => {
    const form = new FormData();
    form.set('key', 'openapi/a.csv');
    form.set('file', new Blob(['a\n1\n']), 'a.csv');
    const uploaded = await (await svc.fetch('/v1/uploads', { method: 'POST', body: form })).json();
    uploadAnswer.parse(uploaded);
    const id = (uploaded as { job: { id: string } }).job.id;
    job.parse(await waitForJob(svc, id));
    jobList.parse(await (await svc.fetch('/v1/jobs')).json());
    errorBody.parse(await (await svc.fetch('/v1/jobs/nope')).json());
    errorBody.parse(await (await fetch(new URL('/v1/jobs', svc.url))).json());
  });

  it('should pass an OpenAPI 3.1 validator, and give a client generator types that compile', async function () {
    this.timeout(60_000);
    const validation = await new Validator().validate(structuredClone(doc) as unknown as Record<string, unknown>);
    expect(validation.errors, JSON.stringify(validation.errors)).to.equal(undefined);
    expect(validation.valid).to.equal(true);

    const generated = await openapiTS(structuredClone(doc) as never);
    for (const operations of Object.values(doc.paths)) {
      for (const operation of Object.values(operations))
        expect(generated, operation.operationId).to.include(`${operation.operationId}: {`);
    }
    const dir = await mkdtemp(path.join(os.tmpdir(), 'openapi-client-'));
    try {
      const file = path.join(dir, 'api.ts');
      // A client's own use of the generated types, so that they must resolve to real shapes.
      await writeFile(
        file,
        `${generated}\nexport type JobId = components['schemas']['Job']['id'];\nexport type ErrorCode = components['schemas']['Error']['error']['code'];\nexport const code: ErrorCode = 'invalid_key';\n`,
      );
      const program = ts.createProgram([file], {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        skipLibCheck: true,
      });
      const problems = ts
        .getPreEmitDiagnostics(program)
        .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      expect(problems).to.deep.equal([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
