// A small declarative schema: each field parses and normalises its own value, names itself in
// errors, and describes itself as JSON Schema (for the API description). No dependency, so
// nothing is compiled at cold start.
import { invalidField, InvalidRequestError, TooLargeError } from './errors.ts';

export interface FieldSpec<T, Required extends boolean = boolean> {
  readonly required: Required;
  readonly jsonSchema: Readonly<Record<string, unknown>>;
  /** Returns the normalised value or throws a domain error naming `field`. */
  parse(value: unknown, field: string): T;
}

export type RequestSchema = Readonly<Record<string, FieldSpec<unknown>>>;

type ValueOf<F> = F extends FieldSpec<infer T, boolean> ? T : never;
export type Infer<S extends RequestSchema> = {
  -readonly [K in keyof S as S[K] extends FieldSpec<unknown, true> ? K : never]: ValueOf<S[K]>;
} & {
  -readonly [K in keyof S as S[K] extends FieldSpec<unknown, true> ? never : K]?: ValueOf<S[K]>;
};

// Characters that are never part of a name a person would see: controls, format characters
// (bidi embeddings, overrides and marks, zero-width characters, the BOM, tag characters),
// private-use, unassigned and surrogate code points, line and paragraph separators, and the
// code points that render as nothing (Hangul fillers, the braille blank and the like).
const INVISIBLE_OR_CONTROL = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u115f\u1160\u180e\u2800\u3164\uffa0]|\u034f|\u17b4|\u17b5/u;
// Emoji sequences legitimately hold some of those: a zero-width joiner between pictographs
// (👩‍⚕️) and the tag characters of a subdivision flag (🏴 + tags + cancel tag).
const EMOJI_JOINER = /(?<=\p{Extended_Pictographic}[\u{fe0f}\u{1f3fb}-\u{1f3ff}]?)\u200d(?=\p{Extended_Pictographic})/gu;
const EMOJI_TAG_SEQUENCE = /\u{1f3f4}[\u{e0020}-\u{e007e}]+\u{e007f}/gu;
/** A name needs something a person can read: a letter, a digit or an emoji. */
const VISIBLE = /[\p{L}\p{N}\p{Extended_Pictographic}\p{Regional_Indicator}]/u;
const MARKUP = /[<>]/;

export interface TextRules {
  maxChars: number;
  maxBytes: number;
  pattern?: RegExp;
  /** Allow any script (NFC-normalised); without it the pattern alone decides. */
  humanText?: boolean;
  /** A whole credential over the limits is too large (413), not a field to fix (400). */
  tooLarge?: boolean;
}

export function parseText(value: unknown, field: string, rules: TextRules, expected: string): string {
  if (typeof value !== 'string') throw invalidField(field, `must be a string: ${expected}`);
  if (value.length > rules.maxChars * 2 || Buffer.byteLength(value, 'utf8') > rules.maxBytes) {
    if (rules.tooLarge) throw new TooLargeError(field, `must be at most ${rules.maxBytes} bytes`);
    throw invalidField(field, `must be at most ${rules.maxChars} characters (${rules.maxBytes} bytes)`);
  }
  if (value.trim() === '') throw invalidField(field, `must not be empty: ${expected}`);
  let normalised = value;
  if (rules.humanText) {
    const withoutEmojiSequences = value.replace(EMOJI_TAG_SEQUENCE, '\u{1f3f4}').replace(EMOJI_JOINER, '');
    if (INVISIBLE_OR_CONTROL.test(withoutEmojiSequences)) {
      throw invalidField(field, 'must not contain control, format, bidi-override, zero-width, private-use, unassigned or blank-looking characters');
    }
    if (!VISIBLE.test(value)) throw invalidField(field, 'must contain at least one visible letter, digit or emoji');
    if (MARKUP.test(value)) throw invalidField(field, 'must not contain "<" or ">"');
    normalised = value.normalize('NFC');
  }
  if ([...normalised].length > rules.maxChars) throw invalidField(field, `must be at most ${rules.maxChars} characters`);
  if (rules.pattern && !rules.pattern.test(normalised)) throw invalidField(field, `must be ${expected}`);
  return normalised;
}

export function optionalityOf<T>(spec: Omit<FieldSpec<T>, 'required'>) {
  return {
    required: { ...spec, required: true as const } satisfies FieldSpec<T, true>,
    optional: { ...spec, required: false as const } satisfies FieldSpec<T, false>,
  };
}

export function textField(description: string, rules: TextRules, expected: string, extraSchema: Record<string, unknown> = {}) {
  return optionalityOf<string>({
    jsonSchema: { type: 'string', maxLength: rules.maxChars, ...(rules.pattern ? { pattern: rules.pattern.source } : {}), description, ...extraSchema },
    parse: (value, field) => parseText(value, field, rules, expected),
  });
}

export function booleanField(description: string) {
  return optionalityOf<boolean>({
    jsonSchema: { type: 'boolean', description },
    parse(value, field) {
      if (typeof value !== 'boolean') throw invalidField(field, 'must be true or false (a JSON boolean, not a string)');
      return value;
    },
  });
}

export function integerField(description: string, minimum: number, maximum: number, unit: string) {
  return optionalityOf<number>({
    jsonSchema: { type: 'integer', minimum, maximum, description },
    parse(value, field) {
      // A numeric string is refused: jsonwebtoken reads "3600" as milliseconds.
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum || value > maximum) {
        throw invalidField(field, `must be a whole number of ${unit} from ${minimum} to ${maximum} (a JSON number)`);
      }
      return value;
    },
  });
}

export function enumField<const V extends string>(description: string, values: readonly V[]) {
  return optionalityOf<V>({
    jsonSchema: { type: 'string', enum: values, description },
    parse(value, field) {
      if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
        throw invalidField(field, `must be one of: ${values.join(', ')}`);
      }
      return value as V;
    },
  });
}

export function parseRequest<S extends RequestSchema>(schema: S, body: unknown, options: { unknownFields?: 'refuse' | 'ignore' } = {}): Infer<S> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError(`Send a JSON object with the fields: ${Object.keys(schema).join(', ')}.`);
  }
  const input = body as Record<string, unknown>;
  for (const key of options.unknownFields === 'ignore' ? [] : Object.keys(input)) {
    if (!Object.hasOwn(schema, key)) {
      // The unknown key itself is not echoed back.
      throw new InvalidRequestError(`Accepted fields: ${Object.keys(schema).join(', ')}.`, 'unknown-field');
    }
  }
  const output: Record<string, unknown> = {};
  for (const [field, spec] of Object.entries(schema)) {
    const value = input[field];
    // The original server treated null and "" in an optional field as absent, and its clients send them.
    if (!Object.hasOwn(input, field) || (!spec.required && (value === null || value === ''))) {
      if (spec.required) throw invalidField(field, 'is required');
      continue;
    }
    output[field] = spec.parse(input[field], field);
  }
  return output as Infer<S>;
}

export function toJsonSchema(schema: RequestSchema): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    required: Object.entries(schema)
      .filter(([, spec]) => spec.required)
      .map(([field]) => field),
    properties: Object.fromEntries(Object.entries(schema).map(([field, spec]) => [field, spec.jsonSchema])),
  };
}
