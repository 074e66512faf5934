// Comments and docs cite only files that exist in this repository.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';

const tracked = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' })
  .split('\n')
  .filter((file) => /\.(ts|js|md|html)$/.test(file) && existsSync(file));
const CITATION = /(?<![\w./-])((?:docs|lib|functions|infra|scripts|test|events)\/[\w./-]+\.(?:ts|md|json|js|cjs|html|css)|[A-Z][A-Z_]+\.md)\b/g;

it('every cited project file exists', () => {
  const missing: string[] = [];
  for (const file of tracked) {
    for (const [, cited] of readFileSync(file, 'utf8').matchAll(CITATION)) {
      if (!existsSync(cited!) && !existsSync(join(dirname(file), cited!))) missing.push(`${file} cites ${cited}`);
    }
  }
  expect(tracked.length).toBeGreaterThan(50);
  expect(missing).toEqual([]);
});
