// How each handler is bundled: one definition for the CDK functions and for the scripts that
// bundle outside CDK (benchmarks, bundle tests), so what is measured is what is deployed.
import type { BuildOptions } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE_TARGET = 'node24';

/** ESM output with CommonJS dependencies inside (jsonwebtoken) needs a real `require`. */
export const CREATE_REQUIRE_BANNER = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/** semver, as jsonwebtoken uses it, answered without compiling semver's regular expressions. */
export const SEMVER_ALIAS = { semver: join(dirname(fileURLToPath(import.meta.url)), 'semver-lite.cjs') };

export interface BundlePolicy {
  /** Bundle @aws-sdk/* (pinned, tree-shaken) or leave it to the Lambda runtime's copy. */
  bundleAwsSdk: boolean;
}

export function externalModules(policy: BundlePolicy): string[] {
  return policy.bundleAwsSdk ? [] : ['@aws-sdk/*', '@smithy/*'];
}

/** The same options, for the esbuild API. */
export function esbuildOptions(entry: string, outfile: string, policy: BundlePolicy): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: NODE_TARGET,
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    mainFields: ['module', 'main'],
    banner: { js: CREATE_REQUIRE_BANNER },
    external: externalModules(policy),
    alias: SEMVER_ALIAS,
    logLevel: 'warning',
  };
}
