// The README's settings table is the one the settings table in lib/config.ts makes.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { SETTING_VARIABLES } from '../../lib/config.ts';
import { withSettingsTable } from '../../scripts/docs.ts';

it('holds the generated settings table (run `npm run docs` after changing a setting)', () => {
  const readme = readFileSync('README.md', 'utf8');
  expect(withSettingsTable(readme)).toBe(readme);
});

it('documents every setting the service reads', () => {
  const readme = readFileSync('README.md', 'utf8');
  const table = readme.slice(readme.indexOf('## Settings'), readme.indexOf('\n## ', readme.indexOf('## Settings') + 5));
  expect(SETTING_VARIABLES.filter((name) => !table.includes(`\`${name}\``))).toEqual([]);
});
