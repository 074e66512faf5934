// semver-lite stands in for semver in the bundles: it must answer jsonwebtoken's questions
// exactly as semver does, and refuse anything else.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const lite = require('../../infra/semver-lite.cjs') as { satisfies(version: string, range: string): boolean };
const semver = require('semver') as { satisfies(version: string, range: string): boolean };

describe('semver-lite', () => {
  const ranges = ['^6.12.0 || >=8.0.0', '>=15.7.0', '>=16.9.0'];
  const versions = ['v6.11.9', 'v6.12.0', 'v6.20.1', 'v7.0.0', 'v8.0.0', 'v15.6.9', 'v15.7.0', 'v16.8.99', 'v16.9.0', 'v20.20.2', 'v24.1.0', process.version];
  it.each(ranges.flatMap((range) => versions.map((version) => [version, range])))('%s satisfies %s as semver says', (version, range) => {
    expect(lite.satisfies(version!, range!)).toBe(semver.satisfies(version!, range!));
  });

  it('refuses ranges it does not understand instead of guessing', () => {
    expect(() => lite.satisfies('v20.0.0', '~1.2.3')).toThrow(/unsupported range/);
    expect(() => lite.satisfies('v20.0.0', '1.x')).toThrow(/unsupported range/);
  });
});
