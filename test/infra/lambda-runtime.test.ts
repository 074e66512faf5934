// Each deployed bundle under AWS's own Lambda Runtime Interface Client (aws-lambda-ric, what the
// nodejs24.x runtime runs) on Node 24. One runtime process a function, with the template's
// environment, answers every committed event of the function's routes in a row and then a
// keep-warm ping, as one warm Lambda environment would. bundle.test.ts calls each bundle's
// handler with a harness of its own, one event a process; this shows what only the real runtime
// or a warm environment can: the handler found from the template's Handler, answers serialized
// by the RIC, and one environment serving different routes one after another (store included).
//
// The RIC compiles a native addon when installed (about 45 s, cmake and g++), so it is installed
// apart (test/lambda-runtime/) by .ci/run. Without it or Node 24 the test skips, saying how to
// install them.
import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS, functionsDeployedWith, KEEP_WARM_PING, routesDeployedWith, routesOf, ROUTES, type FunctionDefinition } from '../../lib/routes.ts';
import { functionLogicalId } from '../../infra/token-function.ts';
import { TEST_SECRET_ARN } from '../helpers/fake-secrets-manager.ts';
import { assetDirOf, BUNDLE_CONTEXT, bundledDeployment, committedEvent, expectCommittedAnswer, type BundledDeployment } from '../helpers/deployed-bundles.ts';
import { startRuntimeApi, type Invocation, type ReportedError } from '../helpers/lambda-runtime-api.ts';
import { recordLogLines } from '../helpers/log-record.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const RIC = resolve(ROOT, 'test/lambda-runtime/node_modules/aws-lambda-ric/index.mjs');
const NODE24 = resolve(ROOT, 'test-artifacts/node24/node_modules/node/bin/node');
const missing = [RIC, NODE24].filter((file) => !existsSync(file));
if (missing.length > 0) {
  console.warn(
    `Lambda runtime test skipped: no ${missing.join(' and no ')}. Install them (the RIC compiles for about 45 s and needs cmake, make and g++):\n` +
      '  npm install --prefix test-artifacts/node24 --no-save node@24.21.0\n' +
      '  PATH="$PWD/test-artifacts/node24/node_modules/node/bin:$PATH" npm ci --prefix test/lambda-runtime',
  );
}

/** Each function gets a runtime process of its own: start-up, its events and the stop take a few seconds. */
const TEST_TIMEOUT_MS = 30_000;

interface RuntimeRun {
  answers: Invocation[];
  reported: ReportedError[];
  /** What the runtime process printed (the service's log lines among it). */
  output: string;
}

/**
 * Starts one RIC process on Node 24 for a function's bundle, as Lambda starts an environment, and
 * hands it the events one after another. Whatever happens, the runtime is stopped (it polls for
 * the next event forever) and its log lines are kept for the log scan.
 */
async function underRuntime(deployment: BundledDeployment, fnDefinition: FunctionDefinition, events: readonly unknown[]): Promise<RuntimeRun> {
  const { name } = fnDefinition;
  const fn = deployment.resources[functionLogicalId(fnDefinition)];
  const api = await startRuntimeApi(name);
  const taskRoot = assetDirOf(deployment.outdir, fn);
  const runtime = spawn(NODE24, [RIC], {
    cwd: taskRoot,
    env: {
      ...deployment.backends.environmentOf(fn, name),
      // What Lambda sets for every runtime (the RIC refuses to start without the AWS_LAMBDA_ ones).
      AWS_LAMBDA_RUNTIME_API: api.address,
      LAMBDA_TASK_ROOT: taskRoot,
      _HANDLER: fn.Properties.Handler,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.Properties.MemorySize),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: 'lambda-runtime-test',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  runtime.stdout.on('data', (chunk: Buffer) => (output += chunk));
  runtime.stderr.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<void>((done) => {
    runtime.once('close', (code, signal) => {
      api.abandon(`the runtime exited (${signal ?? `code ${code}`})`);
      done();
    });
    runtime.once('error', (error) => {
      api.abandon(`the runtime did not start: ${error.message}`);
      done();
    });
  });

  const answers: Invocation[] = [];
  let failure: Error | undefined;
  try {
    for (const event of events) answers.push(await api.invoke(event, fn.Properties.Timeout * 1000));
  } catch (error) {
    failure = error as Error;
  }
  runtime.kill('SIGTERM');
  const killer = setTimeout(() => runtime.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(killer);
  await api.close();
  recordLogLines(output, 'lambda-runtime');
  if (failure) throw new Error(`${name}: ${failure.message}; the runtime printed:\n${output.slice(-4_000)}`);
  return { answers, reported: api.reported, output };
}

/** Feeds a function's events and then a ping; checks no error was reported and the ping left no trace. */
async function runFunction(deployment: BundledDeployment, fn: FunctionDefinition, events: readonly unknown[]) {
  const run = await underRuntime(deployment, fn, [...events, KEEP_WARM_PING]);
  expect(run.reported, 'errors the runtime reported to /error or /init/error').toEqual([]);
  expect(run.answers.map((answer) => answer.outcome)).toEqual(run.answers.map(() => 'response'));
  const ping = run.answers.pop()!;
  expect(ping.body).toEqual({ warm: true });
  // A ping is not a request: nothing it logs (the access log names the request id it falls back to).
  expect(run.output).not.toContain(ping.requestId);
  return run.answers.map((answer) => answer.body);
}

const appSecretFetches = (deployment: BundledDeployment, arn: string) =>
  deployment.backends.fake.calls.filter((call) => call.secretId === arn && call.versionStage === 'AWSCURRENT').length;

describe.skipIf(missing.length > 0)('each deployed function under the Lambda Runtime Interface Client on Node 24', () => {
  const deployment = bundledDeployment(BUNDLE_CONTEXT);

  const routes = routesDeployedWith('hs256');
  it.each(functionsDeployedWith('hs256').map((fn) => [fn.name, fn] as const))(
    '%s: one environment answers each of its routes’ committed events in route order, then a keep-warm ping',
    async (_, fn) => {
      const fnRoutes = routesOf(fn, routes);
      const before = appSecretFetches(deployment, TEST_SECRET_ARN);
      const answers = await runFunction(deployment, fn, fnRoutes.map(committedEvent));
      for (const [index, route] of fnRoutes.entries()) expectCommittedAnswer(route, answers[index]);
      // A warm environment fetches the app secret once, when it starts; Prosody's function not at all.
      expect(appSecretFetches(deployment, TEST_SECRET_ARN) - before, 'app secret fetches').toBe(fn === FUNCTIONS.callerApi ? 1 : 0);
    },
    TEST_TIMEOUT_MS,
  );
});

describe.skipIf(missing.length > 0)('the RS256 deployment under the Lambda Runtime Interface Client', () => {
  const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jitsi-rs256-AbCdEf';
  const deployment = bundledDeployment({ ...BUNDLE_CONTEXT, jitsiSigning: 'rs256', secretArn }, (backends) => {
    const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    backends.fake.secrets.set(secretArn, JSON.stringify({ kid: 'ric-test-key', privateKey }));
  });

  it(
    'public-keys answers 404 for a key nobody published, and serves the key caller-api published when it signed, never reading the private key',
    async () => {
      const keysEvent = committedEvent(ROUTES.jitsiKeys);
      const [unpublished] = await runFunction(deployment, FUNCTIONS.publicKeys, [keysEvent]);
      expectCommittedAnswer(ROUTES.jitsiKeys, unpublished);

      // The signing function publishes its key's public half to the table before its first token.
      const [minted] = await runFunction(deployment, FUNCTIONS.callerApi, [committedEvent(ROUTES.generateToken)]);
      expect(minted.statusCode, minted.body).toBe(200);
      const { kid } = JSON.parse(Buffer.from(JSON.parse(minted.body).token.split('.')[0], 'base64url').toString('utf8'));
      expect(kid).toBe('ric-test-key');
      const keyPath = keysEvent.rawPath.replace(/[^/]+$/, `${createHash('sha256').update(kid).digest('hex')}.pem`);
      const [served] = await runFunction(deployment, FUNCTIONS.publicKeys, [
        {
          ...keysEvent,
          rawPath: keyPath,
          requestContext: { ...keysEvent.requestContext, http: { ...keysEvent.requestContext.http, path: keyPath } },
          pathParameters: { keyFile: keyPath.split('/').pop() },
        },
      ]);
      expect(served.statusCode, served.body).toBe(200);
      expect(served.body).toMatch(/^-----BEGIN PUBLIC KEY-----/);
      expect(appSecretFetches(deployment, secretArn), 'private key fetches: caller-api once, public-keys never').toBe(1);
    },
    TEST_TIMEOUT_MS,
  );
});
