// The real bundles, as `cdk synth` makes them and `sam local` reads them: each loads in a fresh
// Node process and answers an API Gateway v2 event, with its secret from a loopback Secrets
// Manager endpoint (the deployed code path).
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS, functionOf, functionsDeployedWith, KEEP_WARM_PING, routesDeployedWith, routesOf, storeActionsOf } from '../../lib/routes.ts';
import { functionLogicalId } from '../../infra/token-function.ts';
import { BUNDLE_ENTRY_FILE } from '../../infra/bundling.ts';

/** The default deployment signs with HS256: the RS256 keys function is not in it. */
const routes = routesDeployedWith('hs256');
import { sdkEnvironment, startFakeSecretsManager, TEST_SECRET_ARN, type FakeSecretsManager } from '../helpers/fake-secrets-manager.ts';
import { recordLogLines } from '../helpers/log-record.ts';
import { synth } from '../helpers/synth.ts';
import { ensureTable, startEmbeddedStore, type EmbeddedStore } from '../../infra/local/embedded-store.ts';
import { testTempDir } from '../helpers/temp.ts';

const run = promisify(execFile);
const outdir = testTempDir('cdk-');
let fake: FakeSecretsManager;
let store: EmbeddedStore;
const TABLE = 'bundle-appointments';
const RESERVATIONS_KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:reservations-key-AbCdEf';
const EVENTS_KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:events-key-AbCdEf';
let resources: Record<string, any>;

beforeAll(async () => {
  store = await startEmbeddedStore('memory');
  await ensureTable(store.client, TABLE);
  fake = await startFakeSecretsManager();
  fake.secrets.set(TEST_SECRET_ARN, 'bundle-test-secret-bundle-test-secret-0123456789');
  // The key the reservation events send (events/env.json), as the stack's generated secret.
  fake.secrets.set(RESERVATIONS_KEY_ARN, JSON.parse(readFileSync('events/env.json', 'utf8')).Parameters.RESERVATIONS_API_KEY);
  fake.secrets.set(EVENTS_KEY_ARN, JSON.parse(readFileSync('events/env.json', 'utf8')).Parameters.EVENTS_API_KEY);
  const { app } = synth({ auth: 'none', jitsiAppId: 'bundle-app', jitsiDomain: 'meet.example.com' }, { bundle: true, outdir });
  const assembly = app.synth();
  resources = assembly.getStackByName('JitsiTokenStack').template.Resources;
}, 120_000);
afterAll(async () => {
  await fake.close();
  await store.close();
});

/** Loads the bundle in a new Node process and invokes its handler once with the event. */
const INVOKE = `
const [bundle, eventFile, ping] = process.argv.slice(1);
const { handler } = await import(bundle);
const event = JSON.parse(ping ?? (await import('node:fs')).readFileSync(eventFile, 'utf8'));
if (event.body && event.body.startsWith('name=')) {
  event.body = event.body.replace(/start_time=[^&]*/, 'start_time=' + encodeURIComponent(new Date().toISOString()));
}
if (event.body && event.body.includes('scheduledStartTime')) {
  const body = JSON.parse(event.body); body.scheduledStartTime = new Date(Date.now() + 3600e3).toISOString(); event.body = JSON.stringify(body);
}
const result = await handler(event, { awsRequestId: 'bundle-test', functionName: 'f' });
process.stdout.write('RESULT ' + JSON.stringify(result) + '\\n');
`;

/** Runs the deployed bundle of a function in a fresh Node process, as Lambda would, with one event. */
async function invokeBundle(functionLogicalIdOf: string, name: string, eventFile: string, ping?: string) {
  const fn = resources[functionLogicalIdOf];
  const assetDir = join(outdir, fn.Metadata['aws:asset:path']);
  const env = {
    PATH: process.env.PATH ?? '',
    ...sdkEnvironment(fake.endpoint),
    ...Object.fromEntries(Object.entries(fn.Properties.Environment.Variables as Record<string, unknown>).filter(([, value]) => typeof value === 'string')),
    AWS_LAMBDA_FUNCTION_NAME: name,
    JITSI_SECRET_ARN: TEST_SECRET_ARN,
    // The table the stack would name, in an embedded store the SDK reaches through its own variable.
    APPOINTMENTS_TABLE: TABLE,
    ...(fn.Properties.Environment.Variables.RESERVATIONS_KEY_ARN ? { RESERVATIONS_KEY_ARN } : {}),
    ...(fn.Properties.Environment.Variables.EVENTS_KEY_ARN ? { EVENTS_KEY_ARN } : {}),
    AWS_ENDPOINT_URL_DYNAMODB: store.client.endpoint,
    NODE_OPTIONS: '--enable-source-maps',
  } as Record<string, string>;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', INVOKE, join(assetDir, BUNDLE_ENTRY_FILE), eventFile, ...(ping ? [ping] : [])], {
    env,
    cwd: assetDir,
  });
  recordLogLines(stdout, 'bundle');
  const result = JSON.parse(
    stdout
      .split('\n')
      .find((line) => line.startsWith('RESULT '))!
      .slice(7),
  );
  return { result, stdout };
}

describe('bundled functions', () => {
  it.each(routes.map((route) => [route.name, route] as const))(
    '%s: sam local metadata points at its function, a bundle that loads and answers',
    async (_, route) => {
      const fn = resources[functionLogicalId(functionOf(route)!)];
      expect(fn.Metadata['aws:asset:property']).toBe('Code');
      const assetDir = join(outdir, fn.Metadata['aws:asset:path']);
      const bundle = join(assetDir, BUNDLE_ENTRY_FILE);
      expect(existsSync(bundle)).toBe(true);
      expect(existsSync(`${bundle}.map`)).toBe(true);
      expect(readFileSync(bundle, 'utf8')).toContain('createRequire');

      const currentCalls = () => fake.calls.filter((call) => call.versionStage === 'AWSCURRENT').length;
      const callsBefore = currentCalls();
      const appSecretBefore = fake.calls.filter((call) => call.secretId === TEST_SECRET_ARN && call.versionStage === 'AWSCURRENT').length;
      const { result } = await invokeBundle(
        functionLogicalId(functionOf(route)!),
        functionOf(route)!.name,
        join(process.cwd(), 'events', `${route.name}.json`),
      );
      // The validate and refresh events carry a token for 2027-01-14 signed with env.json's secret:
      // here (another secret, today) it is a verdict, or a 400 for refresh.
      if (route.name === 'refresh-token') {
        expect(result.statusCode).toBe(400);
        expect(JSON.parse(result.body)).toMatchObject({ field: 'token' });
      } else if (route.name === 'jitsi-keys') {
        // HS256 mode has no public keys to serve.
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
      // One fetch of the app secret per cold start of a function that signs; Prosody's function
      // (no END_MEETING_URL here) fetches only Prosody's two keys, in its init phase, though the
      // harness names the app secret too.
      const appSecretCalls = () => fake.calls.filter((call) => call.secretId === TEST_SECRET_ARN && call.versionStage === 'AWSCURRENT').length;
      expect(appSecretCalls() - appSecretBefore, 'app secret').toBe(route.caller === 'prosody' ? 0 : 1);
      expect(currentCalls()).toBe(callsBefore + (route.caller === 'prosody' ? 2 : 1));
    },
  );

  it.each(functionsDeployedWith('hs256').map((fn) => [fn.name, fn] as const))(
    '%s: answers a keep-warm ping at once, with no request log line',
    async (_, fn) => {
      const { result, stdout } = await invokeBundle(functionLogicalId(fn), fn.name, '-', JSON.stringify(KEEP_WARM_PING));
      expect(result).toEqual({ warm: true });
      // A ping is not a request: no access log line (those name their route).
      expect(stdout).toContain('RESULT ');
      expect(stdout).not.toMatch(/"route":/);
    },
  );

  it('bundles each function on its own, with a small start-up file and the rest in chunks loaded on demand (sizes: docs/PERFORMANCE.md)', () => {
    const assets = functionsDeployedWith('hs256').map((fn) => resources[functionLogicalId(fn)].Metadata['aws:asset:path'] as string);
    expect(new Set(assets).size).toBe(assets.length);
    for (const asset of assets) {
      expect(statSync(join(outdir, asset, BUNDLE_ENTRY_FILE)).size).toBeLessThan(256 * 1024);
      expect(readdirSync(join(outdir, asset, 'chunks')).some((file) => file.endsWith('.mjs'))).toBe(true);
    }
  });
});

describe('what each deployed bundle loads', () => {
  it.each(Object.values(FUNCTIONS).map((fn) => [fn.name, fn] as const))(
    '%s: its routes, the DynamoDB client only if one of them touches the store (and then in a chunk of its own), no local-only module and no CDK code',
    async (_, fn) => {
      const { build } = await import('esbuild');
      const { esbuildOptions } = await import('../../infra/bundling.ts');
      const result = await build({
        ...esbuildOptions(fn.entry, join(outdir, 'metafile-check', fn.name), { bundleAwsSdk: true }),
        write: false,
        metafile: true,
      });
      const inputs = Object.keys(result.metafile!.inputs);
      for (const route of routesOf(fn)) expect(inputs).toContain(route.entry);
      expect(inputs.filter((input) => input.startsWith('functions/') && !input.startsWith('functions/lambda/')).sort()).toEqual(
        routesOf(fn)
          .map((route) => route.entry)
          .sort(),
      );
      expect(inputs.some((input) => input.includes('@aws-sdk/client-dynamodb/'))).toBe(storeActionsOf(routesOf(fn)).length > 0);
      // What the start-up file holds: the DynamoDB client never (it loads with the first store call).
      const startup = Object.entries(result.metafile!.outputs).find(([path]) => path.endsWith(`/${BUNDLE_ENTRY_FILE}`))![1];
      expect(Object.keys(startup.inputs).filter((input) => input.includes('client-dynamodb') || input.includes('lib-dynamodb'))).toEqual([]);
      expect(inputs.filter((input) => input.startsWith('infra/local/') || input.includes('aws-cdk-lib') || input.includes('/jose/'))).toEqual([]);
    },
  );
});
