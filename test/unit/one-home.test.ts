// One fact, one home: a route's path and name live in the route table (lib/routes.ts) and a
// setting's variable in the settings table (lib/config.ts). No other source file's code (what
// runs, is deployed or is served: strings included, comments not) repeats them; tests and docs
// may quote them.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { SETTING_VARIABLES } from '../../lib/config.ts';
import { routes } from '../../lib/routes.ts';

const TABLES = new Set(['lib/routes.ts', 'lib/config.ts']);

function sourceFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|js|cjs|html)$/.test(name) && !TABLES.has(path) ? [path] : [];
  });
}

const files = ['lib', 'functions', 'infra', 'scripts'].flatMap(sourceFiles);
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The code of a file without its comments (a comment may explain with a route's or setting's name). */
const withoutComments = (text: string): string =>
  text
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"\x60])\/\/.*$/gm, '$1');
const code = new Map(files.map((file) => [file, withoutComments(readFileSync(file, 'utf8'))]));

/** The files whose code holds a text as a whole word (a handler file's own path excepted). */
function occurrences(text: string): string[] {
  const pattern = new RegExp(`(?<![\\w./-])${escapeRegExp(text)}(?![\\w-]|\\.ts)`);
  return files.filter((file) => pattern.test(code.get(file)!));
}

it('scans the source folders, and finds a repeat when there is one', () => {
  expect(files.length).toBeGreaterThan(30);
  expect(files).toContain('functions/generate-token.ts');
  expect(withoutComments("const a = 'b'; // c\n/* d */ const e = 'http://f';")).toBe("const a = 'b'; \n const e = 'http://f';");
  // Names that the code does use, to show the scan would see a repeat.
  expect(occurrences('createApiHandler').length).toBeGreaterThan(3);
});

it.each(routes.map((route) => [route.name, route.path] as const))('route %s: its name and path stand only in the route table', (name, path) => {
  expect(occurrences(path)).toEqual([]);
  expect(occurrences(name)).toEqual([]);
});

it.each(SETTING_VARIABLES.map((variable) => [variable]))('setting %s: its variable stands only in the settings table', (variable) => {
  expect(occurrences(variable)).toEqual([]);
});
