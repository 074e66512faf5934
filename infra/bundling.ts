// How each function is bundled: one definition for the CDK functions (local bundling through
// esbuild's API) and for the scripts that bundle outside CDK (benchmarks, bundle tests), so
// what is measured is what is deployed.
import { buildSync, type BuildOptions } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE_TARGET = 'node24';

/** ESM output with CommonJS dependencies inside (jsonwebtoken) needs a real `require`. */
export const CREATE_REQUIRE_BANNER = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/** semver, as jsonwebtoken uses it, answered without compiling semver's regular expressions. */
export const SEMVER_ALIAS = { semver: join(dirname(fileURLToPath(import.meta.url)), 'semver-lite.cjs') };

/** The file Lambda loads (LAMBDA_HANDLER); code only some requests need sits in `chunks/`. */
export const BUNDLE_ENTRY_FILE = 'index.mjs';
export const LAMBDA_HANDLER = 'index.handler';

export interface BundlePolicy {
  /** Bundle @aws-sdk/* (pinned, tree-shaken) or leave it to the Lambda runtime's copy. */
  bundleAwsSdk: boolean;
}

export function externalModules(policy: BundlePolicy): string[] {
  return policy.bundleAwsSdk ? [] : ['@aws-sdk/*', '@smithy/*'];
}

/**
 * The build of one function into `outdir`: `index.mjs` plus chunks. Splitting turns each dynamic
 * `import()` into a file loaded on first use, so a cold start parses only what the code it runs
 * at start-up needs: the DynamoDB client (lib/store) loads with the first store call, and the
 * AWS SDK's unused credential providers (SSO, profiles, STS) never.
 */
export function esbuildOptions(entry: string, outdir: string, policy: BundlePolicy): BuildOptions {
  return {
    entryPoints: { index: entry },
    outdir,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
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

/** Bundles synchronously (CDK's local bundling is synchronous); throws on any esbuild error. */
export function bundleFunction(entry: string, outdir: string, policy: BundlePolicy): void {
  buildSync(esbuildOptions(entry, outdir, policy));
}
