// Strict JSON for request bodies: JSON.parse for the syntax, then one pass over the text for
// what JSON.parse lets through (duplicate keys, where parsers disagree on which one wins;
// prototype-shaped keys; deep nesting).
import { InvalidRequestError } from './errors.ts';

export const MAX_JSON_DEPTH = 4;

/** Keys that mean something to JavaScript objects; no request of ours has a field like these. */
const RESERVED_KEYS = new Set([
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
]);

const invalidJson = (detail: string): InvalidRequestError => new InvalidRequestError(detail, 'invalid-json');

export function parseStrictJson(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The parser's message quotes the input, so it is never passed on.
    throw invalidJson('The body is not well-formed JSON (UTF-8, no byte order mark, nothing after the value).');
  }
  checkKeysAndDepth(text, maxDepth);
  return value;
}

/** Walks text already accepted by JSON.parse, so every string followed by ':' is a key. */
function checkKeysAndDepth(text: string, maxDepth: number): void {
  const openObjects: (Set<string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === 0x7b /* { */ || char === 0x5b /* [ */) {
      openObjects.push(char === 0x7b ? new Set() : null);
      if (openObjects.length > maxDepth) throw invalidJson(`The body nests objects or arrays more than ${maxDepth} levels deep.`);
    } else if (char === 0x7d /* } */ || char === 0x5d /* ] */) {
      openObjects.pop();
    } else if (char === 0x22 /* " */) {
      const start = i;
      for (i++; text.charCodeAt(i) !== 0x22; i++) {
        if (text.charCodeAt(i) === 0x5c /* \ */) i++;
      }
      let next = i + 1;
      while (next < text.length && /\s/.test(text[next] as string)) next++;
      if (text[next] !== ':') continue;
      const keys = openObjects[openObjects.length - 1];
      const raw = text.slice(start + 1, i);
      const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
      if (RESERVED_KEYS.has(key)) throw invalidJson('The body uses a reserved key name.');
      if (keys?.has(key)) throw invalidJson('A key appears twice in the same object.');
      keys?.add(key);
    }
  }
}
