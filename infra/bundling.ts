// How each handler is bundled: one definition for the CDK functions and for the scripts that
// bundle outside CDK (benchmarks, bundle tests), so what is measured is what is deployed.
import type { BuildOptions } from 'esbuild';

export const NODE_TARGET = 'node24';

/** ESM output with CommonJS dependencies inside (jsonwebtoken) needs a real `require`. */
export const CREATE_REQUIRE_BANNER = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

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
    logLevel: 'warning',
  };
}
