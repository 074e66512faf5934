import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS, functionOf, functionsDeployedWith, KEEP_WARM_PING, routesDeployedWith, routesOf, storeActionsOf } from '../../lib/routes.ts';
import { functionLogicalId } from '../../infra/token-function.ts';
import { BUNDLE_ENTRY_FILE } from '../../infra/bundling.ts';
import { TEST_SECRET_ARN } from '../helpers/fake-secrets-manager.ts';
import { assetDirOf, BUNDLE_CONTEXT, bundledDeployment, committedEvent, expectCommittedAnswer, invokeBundleIn } from '../helpers/deployed-bundles.ts';

/** The default deployment signs with HS256: the RS256 keys function is not in it. */
const routes = routesDeployedWith('hs256');

const deployment = bundledDeployment(BUNDLE_CONTEXT);

/** Runs the deployed bundle of a function in a fresh Node process, as Lambda would, with one event. */
function invokeBundle(functionLogicalIdOf: string, name: string, event: unknown) {
  const fn = deployment.resources[functionLogicalIdOf];
  return invokeBundleIn(assetDirOf(deployment.outdir, fn), deployment.backends.environmentOf(fn, name), event);
}

describe('bundled functions', () => {
  it.each(routes.map((route) => [route.name, route] as const))(
    '%s: sam local metadata points at its function, a bundle that loads and answers',
    async (_, route) => {
      const fn = deployment.resources[functionLogicalId(functionOf(route)!)];
      expect(fn.Metadata['aws:asset:property']).toBe('Code');
      const assetDir = assetDirOf(deployment.outdir, fn);
      const bundle = join(assetDir, BUNDLE_ENTRY_FILE);
      expect(existsSync(bundle)).toBe(true);
      expect(existsSync(`${bundle}.map`)).toBe(true);
      expect(readFileSync(bundle, 'utf8')).toContain('createRequire');

      const { fake } = deployment.backends;
      const currentCalls = () => fake.calls.filter((call) => call.versionStage === 'AWSCURRENT').length;
      const callsBefore = currentCalls();
      const appSecretBefore = fake.calls.filter((call) => call.secretId === TEST_SECRET_ARN && call.versionStage === 'AWSCURRENT').length;
      const { result } = await invokeBundle(functionLogicalId(functionOf(route)!), functionOf(route)!.name, committedEvent(route));
      expectCommittedAnswer(route, result);
      // One fetch of the app secret per cold start of a function that signs; Prosody's function
      // (no END_MEETING_URL here) has no JITSI_SECRET_ARN and fetches only Prosody's two keys, in its init phase.
      const appSecretCalls = () => fake.calls.filter((call) => call.secretId === TEST_SECRET_ARN && call.versionStage === 'AWSCURRENT').length;
      expect(appSecretCalls() - appSecretBefore, 'app secret').toBe(route.caller === 'prosody' ? 0 : 1);
      expect(currentCalls()).toBe(callsBefore + (route.caller === 'prosody' ? 2 : 1));
    },
  );

  it.each(functionsDeployedWith('hs256').map((fn) => [fn.name, fn] as const))(
    '%s: answers a keep-warm ping at once, with no request log line',
    async (_, fn) => {
      const { result, stdout } = await invokeBundle(functionLogicalId(fn), fn.name, KEEP_WARM_PING);
      expect(result).toEqual({ warm: true });
      // A ping is not a request: no access log line (those name their route).
      expect(stdout).toContain('RESULT ');
      expect(stdout).not.toMatch(/"route":/);
    },
  );

  it('bundles each function on its own, with a small start-up file and the rest in chunks loaded on demand (sizes: docs/PERFORMANCE.md)', () => {
    const assets = functionsDeployedWith('hs256').map((fn) => assetDirOf(deployment.outdir, deployment.resources[functionLogicalId(fn)]));
    expect(new Set(assets).size).toBe(assets.length);
    for (const asset of assets) {
      expect(statSync(join(asset, BUNDLE_ENTRY_FILE)).size).toBeLessThan(256 * 1024);
      expect(readdirSync(join(asset, 'chunks')).some((file) => file.endsWith('.mjs'))).toBe(true);
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
        ...esbuildOptions(fn.entry, join(deployment.outdir, 'metafile-check', fn.name), { bundleAwsSdk: true }),
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
