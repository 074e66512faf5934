// npm run docs: writes what the README and docs/ show from the tables: the settings table into
// the README (between its markers) and docs/openapi.json from the route table.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { settingsTableMarkdown } from '../lib/config.ts';
import { buildOpenApi } from '../lib/openapi.ts';
import { routes } from '../lib/routes.ts';
import { PROJECT_ROOT } from './server-process.ts';

export const SETTINGS_START = /<!-- settings:start[^>]*-->\n/;
export const SETTINGS_END = '<!-- settings:end -->';

/** The README with its settings block replaced by the current table. */
export function withSettingsTable(readme: string): string {
  const start = SETTINGS_START.exec(readme);
  const end = readme.indexOf(SETTINGS_END);
  if (!start || end < start.index) throw new Error('README.md has no settings markers');
  return `${readme.slice(0, start.index + start[0].length)}${settingsTableMarkdown()}\n${readme.slice(end)}`;
}

export const openApiText = (): string => `${JSON.stringify(buildOpenApi(routes), null, 2)}\n`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const readmeFile = join(PROJECT_ROOT, 'README.md');
  writeFileSync(readmeFile, withSettingsTable(readFileSync(readmeFile, 'utf8')));
  writeFileSync(join(PROJECT_ROOT, 'docs/openapi.json'), openApiText());
  console.log('wrote README.md (settings) and docs/openapi.json');
}
