// Every setting the service reads is in the README's settings table.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { SETTING_VARIABLES } from '../../lib/config.ts';

it('documents every setting in the README', () => {
  const readme = readFileSync('README.md', 'utf8');
  const table = readme.slice(readme.indexOf('## Settings'), readme.indexOf('\n## ', readme.indexOf('## Settings') + 5));
  const missing = SETTING_VARIABLES.filter((name) => !table.includes(`\`${name}\``));
  expect(missing).toEqual([]);
});
