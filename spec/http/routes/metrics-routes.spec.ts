import { expect } from 'chai';
import { startTestService, waitForJob, type TestService } from '../../helpers/test-service.ts';

describe('metricsRoutes', () => {
  describe('without METRICS_TOKEN', () => {
    let svc: TestService;

    before(async () => {
      svc = await startTestService({ embeddedS3Events: false, env: { INSTANCE_ID: 'spec-metrics' } });
    });
    after(async () => svc.stop());

    const scrape = async () => (await fetch(new URL('/metrics', svc.url))).text();

    it('should serve the Prometheus text format openly, default process metrics included', async () => {
      const response = await fetch(new URL('/metrics', svc.url));
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.equal('text/plain; version=0.0.4; charset=utf-8');
      const text = await response.text();
      for (const name of [
        'process_cpu_user_seconds_total',
        'nodejs_eventloop_lag_seconds',
        's3_csv_ingest_queue_depth',
        's3_csv_ingest_jobs_running',
      ]) {
        expect(text, name).to.match(new RegExp(`^# TYPE ${name} `, 'm'));
      }
    });

    it('should label every sample with this instance, and show the queue depth of the store as the cluster one', async () => {
      const text = await scrape();
      const samples = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
      expect(samples.length).to.be.greaterThan(50);
      for (const sample of samples) expect(sample).to.match(/^\w+\{(.*,)?instance="spec-metrics"(,.*)?\} \S+$/);
      expect(text).to.match(/^s3_csv_ingest_cluster_queue_depth\{instance="spec-metrics"\} 0$/m);
      expect(text).to.match(/^s3_csv_ingest_queue_depth\{instance="spec-metrics"\} 0$/m);
    });

    it('should time requests by router path and status, never by raw URL', async () => {
      await fetch(new URL('/v1/jobs/3f1c7a52-52a4-4a5a-9b8b-8f6f0f0f0f0f', svc.url));
      await fetch(new URL('/no/such/thing-42', svc.url));
      const text = await scrape();
      expect(text).to.match(
        /^s3_csv_ingest_http_request_duration_seconds_count\{instance="spec-metrics",method="GET",route="\/v1\/jobs\/:id",status="404"\} 1$/m,
      );
      expect(text).to.match(
        /^s3_csv_ingest_http_request_duration_seconds_count\{instance="spec-metrics",method="GET",route="unmatched",status="404"\} 1$/m,
      );
      expect(text).not.to.include('3f1c7a52');
      expect(text).not.to.include('thing-42');
    });

    it('should count an uploaded file and the job it runs to the end', async () => {
      const form = new FormData();
      form.set('key', 'metrics/upload.csv');
      form.set('file', new Blob(['a,b\n1,2\n3,4\n']), 'upload.csv');
      const response = await svc.fetch('/v1/uploads', { method: 'POST', body: form });
      expect(response.status).to.equal(201);
      const { job } = (await response.json()) as { job: { id: string } };
      expect((await waitForJob(svc, job.id))['status']).to.equal('succeeded');

      const text = await scrape();
      expect(text).to.match(/^s3_csv_ingest_uploads_total\{instance="spec-metrics"\} 1$/m);
      expect(text).to.match(/^s3_csv_ingest_upload_bytes_total\{instance="spec-metrics"\} 12$/m);
      expect(text).to.match(/^s3_csv_ingest_jobs_accepted_total\{trigger="upload",instance="spec-metrics"\} 1$/m);
      expect(text).to.match(/^s3_csv_ingest_jobs_finished_total\{status="succeeded",instance="spec-metrics"\} 1$/m);
      expect(text).to.match(
        /^s3_csv_ingest_job_duration_seconds_count\{instance="spec-metrics",status="succeeded"\} 1$/m,
      );
      expect(text).to.match(
        /^s3_csv_ingest_http_request_duration_seconds_count\{instance="spec-metrics",method="POST",route="\/v1\/uploads",status="201"\} 1$/m,
      );
    });
  });

  describe('with METRICS_TOKEN', () => {
    let svc: TestService;

    before(async () => {
      svc = await startTestService({ env: { METRICS_TOKEN: 'scraper', API_TOKEN: 'api' }, embeddedS3Events: false });
    });
    after(async () => svc.stop());

    it('should require that token, and only that one', async () => {
      const url = new URL('/metrics', svc.url);
      const none = await fetch(url);
      expect(none.status).to.equal(401);
      expect(((await none.json()) as { error: { code: string } }).error.code).to.equal('unauthorized');
      expect((await fetch(url, { headers: { authorization: 'Bearer api' } })).status).to.equal(401);
      const good = await fetch(url, { headers: { authorization: 'Bearer scraper' } });
      expect(good.status).to.equal(200);
      expect(await good.text()).to.include('s3_csv_ingest_queue_depth');
    });
  });
});
