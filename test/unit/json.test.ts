import { describe, expect, it } from 'vitest';
import { parseStrictJson } from '../../lib/json.ts';
import { toProblem } from '../../lib/http/problem-errors.ts';
import type { HttpProblem } from '../../lib/problem.ts';

const rejects = (text: string) => {
  try {
    parseStrictJson(text);
  } catch (error) {
    const problem = toProblem(error) as HttpProblem;
    expect(problem.status).toBe(400);
    expect(problem.options.detail).not.toContain(text.slice(0, 8));
    return;
  }
  throw new Error(`accepted ${text}`);
};

describe('parseStrictJson', () => {
  it('parses ordinary objects, keeping escaped keys and strings with quotes and colons', () => {
    expect(parseStrictJson('{"a":"x\\":y","b":{"c":[1,2,{"d":null}]}}')).toEqual({ a: 'x":y', b: { c: [1, 2, { d: null }] } });
    expect(parseStrictJson('{"a": "b"} ')).toEqual({ a: 'b' });
  });

  it.each([
    ['malformed', '{"a":'],
    ['trailing garbage', '{"a":1} x'],
    ['byte order mark', '\ufeff{"a":1}'],
    ['single quotes', "{'a':1}"],
    ['duplicate keys', '{"a":1,"a":2}'],
    ['duplicate keys after escapes', '{"a":1,"\\u0061":2}'],
    ['duplicate nested keys', '{"o":{"k":1,"k":1}}'],
    ['__proto__', '{"__proto__":{"x":1}}'],
    ['constructor', '{"constructor":1}'],
    ['prototype', '{"prototype":1}'],
    ['toString', '{"toString":"x"}'],
    ['valueOf', '{"valueOf":"x"}'],
    ['nested reserved key', '{"a":{"__proto__":1}}'],
    ['too deep', '{"a":{"b":{"c":{"d":{"e":1}}}}}'],
    ['deep arrays', '[[[[[1]]]]]'],
  ])('refuses %s', (_, text) => rejects(text));

  it('allows the same key in different objects', () => {
    expect(parseStrictJson('{"a":{"k":1},"b":{"k":2}}')).toEqual({ a: { k: 1 }, b: { k: 2 } });
  });
});
