// What the tests of the deployed bundles share: test/infra/bundle.test.ts runs each bundle in a
// plain Node process, test/infra/lambda-runtime.test.ts under AWS's Runtime Interface Client.
// Both need the loopback services a function reaches, its environment as the template gives it,
// the committed events as a caller would send them today, and what each event should answer.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect } from 'vitest';
import { BUNDLE_ENTRY_FILE } from '../../infra/bundling.ts';
import type { RouteDefinition } from '../../lib/routes.ts';
import { recordLogLines } from './log-record.ts';
import { ensureTable, startEmbeddedStore, type EmbeddedStore } from '../../infra/local/embedded-store.ts';
import { sdkEnvironment, startFakeSecretsManager, TEST_SECRET_ARN, type FakeSecretsManager } from './fake-secrets-manager.ts';
import { synth } from './synth.ts';
import { testTempDir } from './temp.ts';

const EVENTS_DIR = resolve(import.meta.dirname, '../../events');
const TABLE = 'bundle-appointments';

/** The default deployment the bundle tests synthesize (HS256, no caller authorizer). */
export const BUNDLE_CONTEXT = { auth: 'none', jitsiAppId: 'bundle-app', jitsiDomain: 'meet.example.com' };

/**
 * What a template's `Ref`s stand for here: the secrets in the fake Secrets Manager, the table in
 * the embedded store. A variable the stack resolves to something with no stand-in (the event
 * bus) is left out, so the function runs as a deployment without it.
 */
const LOOPBACK_REFS: Readonly<Record<string, string>> = {
  JITSI_SECRET_ARN: TEST_SECRET_ARN,
  RESERVATIONS_KEY_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:reservations-key-AbCdEf',
  EVENTS_KEY_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:events-key-AbCdEf',
  APPOINTMENTS_TABLE: TABLE,
};

export interface BundleBackends {
  fake: FakeSecretsManager;
  store: EmbeddedStore;
  /** A function's environment: its template variables, the loopback stand-ins for its `Ref`s, the SDK pointed at both fakes. */
  environmentOf(fn: TemplateFunction, name: string): Record<string, string>;
  close(): Promise<void>;
}

/** The parts of a synthesized AWS::Lambda::Function the tests read. */
export interface TemplateFunction {
  Metadata: Record<string, string>;
  Properties: { Handler: string; MemorySize: number; Timeout: number; Environment: { Variables: Record<string, unknown> } };
}

/** The fake Secrets Manager holding the stack's secrets (the keys events/env.json sends), and an embedded store with the table. */
export async function startBundleBackends(): Promise<BundleBackends> {
  const store = await startEmbeddedStore('memory');
  await ensureTable(store.client, TABLE);
  const fake = await startFakeSecretsManager();
  const keys = JSON.parse(readFileSync(join(EVENTS_DIR, 'env.json'), 'utf8')).Parameters;
  fake.secrets.set(LOOPBACK_REFS.JITSI_SECRET_ARN!, 'bundle-test-secret-bundle-test-secret-0123456789');
  fake.secrets.set(LOOPBACK_REFS.RESERVATIONS_KEY_ARN!, keys.RESERVATIONS_API_KEY);
  fake.secrets.set(LOOPBACK_REFS.EVENTS_KEY_ARN!, keys.EVENTS_API_KEY);
  return {
    fake,
    store,
    environmentOf: (fn, name) => ({
      PATH: process.env.PATH ?? '',
      ...sdkEnvironment(fake.endpoint),
      ...Object.fromEntries(
        Object.entries(fn.Properties.Environment.Variables).flatMap(([variable, value]) =>
          typeof value === 'string' ? [[variable, value]] : LOOPBACK_REFS[variable] ? [[variable, LOOPBACK_REFS[variable]]] : [],
        ),
      ),
      AWS_LAMBDA_FUNCTION_NAME: name,
      AWS_ENDPOINT_URL_DYNAMODB: store.client.endpoint,
    }),
    close: async () => {
      await fake.close();
      await store.close();
    },
  };
}

/** A synthesized deployment with its bundles, and the loopback services its functions reach. */
export interface BundledDeployment {
  /** The cloud assembly: each function's bundle is in an asset folder here. */
  outdir: string;
  resources: Record<string, any>;
  backends: BundleBackends;
}

/**
 * Registers the hooks of a describe block (or file) that test a deployment's bundles: before its
 * tests, start the services (`prepare` may add secrets) and synthesize the stack with bundling, as
 * `cdk synth` with asset metadata (what sam local reads); after them, stop the services. The
 * object returned is filled in by then.
 */
export function bundledDeployment(context: Record<string, unknown>, prepare?: (backends: BundleBackends) => void): BundledDeployment {
  const deployment = {} as BundledDeployment;
  beforeAll(async () => {
    deployment.outdir = testTempDir('cdk-');
    deployment.backends = await startBundleBackends();
    prepare?.(deployment.backends);
    const { app } = synth(context, { bundle: true, outdir: deployment.outdir });
    deployment.resources = app.synth().getStackByName('JitsiTokenStack').template.Resources;
  }, 120_000);
  afterAll(() => deployment.backends?.close());
  return deployment;
}

/** The folder Lambda would unpack a function's code into: the bundle and its chunks. */
export const assetDirOf = (outdir: string, fn: TemplateFunction): string => join(outdir, fn.Metadata['aws:asset:path']!);

/**
 * A route's committed event (events/<name>.json), with the times a route judges against the clock
 * moved to now: Prosody's reservation starts now, the appointment an hour from now.
 */
export function committedEvent(route: Pick<RouteDefinition, 'name'>): any {
  const event = JSON.parse(readFileSync(join(EVENTS_DIR, `${route.name}.json`), 'utf8'));
  if (typeof event.body !== 'string') return event;
  if (event.body.startsWith('name=')) {
    event.body = event.body.replace(/start_time=[^&]*/, `start_time=${encodeURIComponent(new Date().toISOString())}`);
  } else if (event.body.includes('scheduledStartTime')) {
    event.body = JSON.stringify({ ...JSON.parse(event.body), scheduledStartTime: new Date(Date.now() + 3600e3).toISOString() });
  }
  return event;
}

/** What a function answers API Gateway (payload format 2.0, as this service returns it). */
export interface ApiAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * What the default deployment's bundle answers a route's committed event, the events fed in route
 * order to one store. The validate and refresh events carry a token for 2027-01-14 signed with
 * env.json's secret: here (another secret, today) that is a verdict, or a 400 for refresh.
 */
export function expectCommittedAnswer(route: Pick<RouteDefinition, 'name'>, result: ApiAnswer): void {
  if (route.name === 'refresh-token') {
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body)).toMatchObject({ field: 'token' });
  } else if (route.name === 'jitsi-keys') {
    // HS256 mode has no public keys to serve; RS256 none for a key nobody published.
    expect(result.statusCode).toBe(404);
  } else if (route.name === 'create-join-link') {
    // The cancel-appointment event ran before it, on the same store.
    expect(JSON.parse(result.body)).toMatchObject({ type: 'urn:jitsi-token-api:problem:appointment-cancelled' });
  } else if (route.name === 'exchange-join-link') {
    // The fixture's code is a placeholder.
    expect(result.statusCode).toBe(404);
  } else if (route.name === 'end-meeting') {
    // No END_MEETING_URL in this deployment: the therapist is told it does not end meetings.
    expect(JSON.parse(result.body)).toMatchObject({ status: 501, type: 'urn:jitsi-token-api:problem:not-configured' });
  } else {
    expect(result.statusCode, result.body).toBe(200);
    expect(result.headers['content-type']).toBe('application/json');
  }
}

/** Loads a bundle in a new Node process and invokes its handler once with the event. */
const INVOKE = `
const [bundle, event] = process.argv.slice(1);
const { handler } = await import(bundle);
const result = await handler(JSON.parse(event), { awsRequestId: 'bundle-test', functionName: 'f' });
process.stdout.write('RESULT ' + JSON.stringify(result) + '\\n');
`;

/** Runs a function's bundle (its asset folder) in a fresh Node process, as Lambda would, with one event and exactly `env`. */
export async function invokeBundleIn(
  assetDir: string,
  env: Record<string, string>,
  event: unknown,
  label = 'bundle',
): Promise<{ result: any; stdout: string }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', INVOKE, join(assetDir, BUNDLE_ENTRY_FILE), JSON.stringify(event)],
    {
      env,
      cwd: assetDir,
    },
  );
  recordLogLines(stdout, label);
  const line = stdout.split('\n').find((candidate) => candidate.startsWith('RESULT '));
  if (line === undefined) throw new Error(`the bundle in ${assetDir} printed no result`);
  return { result: JSON.parse(line.slice(7)), stdout };
}
