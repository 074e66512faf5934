// The Prosody function's jobs as the stack's rules invoke it (not API Gateway), with the settings
// the stack gives it: a bus event delivered to the platform as a Standard Webhook signed with the
// secret from Secrets Manager (a loopback receiver verifies it with the standardwebhooks
// package), a failing receiver makes the job throw (so Lambda invokes it again), and anything
// else is not a job.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVER_WEBHOOK, JOB_MARKER, runProsodyJob } from '../../lib/jobs.ts';
import { lambdaSecretEnvironment, startFakeSecretsManager, TEST_SECRET_ARN, type FakeSecretsManager } from '../helpers/fake-secrets-manager.ts';
import { loadHandlers } from '../helpers/handlers.ts';

const HOOK_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhook-signing-AbCdEf';
const HOOK_SECRET_VALUE = 'webhook-signing-value-webhook-signing-value-0123';
let fake: FakeSecretsManager;
let receiver: Server;
let status = 204;
const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
let deps: Awaited<ReturnType<typeof loadHandlers>>['deps'];

beforeAll(async () => {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
  fake = await startFakeSecretsManager();
  fake.secrets.set(TEST_SECRET_ARN, 'jobs-test-secret-jobs-test-secret-0123456789');
  fake.secrets.set(HOOK_SECRET_ARN, HOOK_SECRET_VALUE);
  ({ deps } = await loadHandlers(
    lambdaSecretEnvironment(fake.endpoint, {
      WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`,
      WEBHOOK_SECRET_ARN: HOOK_SECRET_ARN,
    }),
  ));
});
afterAll(async () => {
  await fake?.close();
  await new Promise((done) => receiver?.close(done));
});

const busEvent = {
  id: 'b3c1e0f2a9d84b7c8e6f5a4b3c2d1e0f',
  type: 'appointment.cancelled',
  time: '2026-12-02T10:00:00.000Z',
  data: { appointmentId: 'appt-1', version: 2 },
};

describe("the Prosody function's jobs", () => {
  it('delivers a bus event as a webhook the platform verifies with whsec_ + the base64 of the secret', async () => {
    expect(await runProsodyJob(deps as never, { [JOB_MARKER]: DELIVER_WEBHOOK, event: busEvent })).toEqual({ delivered: 1 });
    const delivery = received.at(-1)!;
    const verified = new Webhook(`whsec_${Buffer.from(HOOK_SECRET_VALUE).toString('base64')}`).verify(
      delivery.body,
      delivery.headers as Record<string, string>,
    );
    expect(verified).toEqual({ type: 'appointment.cancelled', timestamp: busEvent.time, data: busEvent.data });
    expect(delivery.headers['webhook-id']).toBe(busEvent.id);
  });

  it('throws when the platform does not take it, so Lambda invokes the job again', async () => {
    status = 503;
    await expect(runProsodyJob(deps as never, { [JOB_MARKER]: DELIVER_WEBHOOK, event: busEvent })).rejects.toThrow(/not delivered/);
    status = 204;
  });

  it('answers only its own events', () => {
    expect(runProsodyJob(deps as never, { routeKey: 'POST /x' })).toBeUndefined();
    expect(runProsodyJob(deps as never, { source: 'aws.events', 'detail-type': 'Scheduled Event' })).toBeUndefined();
    expect(runProsodyJob(deps as never, { source: 'jitsi-token-api', 'detail-type': 'token.issued', detail: { data: {} } })).toBeUndefined();
  });
});
