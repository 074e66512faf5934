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

// Characters that are never part of a name a person would see: C0/C1 controls, bidi
// embeddings/overrides/isolates and marks, zero-width characters, the BOM, lone surrogates.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const INVISIBLE_OR_CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]|\p{Cs}/u;
// A zero-width joiner inside an emoji sequence (👩‍⚕️) is part of the emoji, not a hidden character.
const EMOJI_JOINER = /(?<=\p{Extended_Pictographic}[\u{fe0f}\u{1f3fb}-\u{1f3ff}]?)\u200d(?=\p{Extended_Pictographic})/gu;
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
    if (INVISIBLE_OR_CONTROL.test(value.replace(EMOJI_JOINER, ''))) {
      throw invalidField(field, 'must not contain control, bidi-override or zero-width characters');
    }
    if (MARKUP.test(value)) throw invalidField(field, 'must not contain "<" or ">"');
    normalised = value.normalize('NFC');
  }
  if ([...normalised].length > rules.maxChars) throw invalidField(field, `must be at most ${rules.maxChars} characters`);
  if (rules.pattern && !rules.pattern.test(normalised)) throw invalidField(field, `must be ${expected}`);
  return normalised;
}

function optionality<T>(spec: Omit<FieldSpec<T>, 'required'>) {
  return {
    required: { ...spec, required: true as const } satisfies FieldSpec<T, true>,
    optional: { ...spec, required: false as const } satisfies FieldSpec<T, false>,
  };
}

export function textField(description: string, rules: TextRules, expected: string, extraSchema: Record<string, unknown> = {}) {
  return optionality<string>({
    jsonSchema: { type: 'string', maxLength: rules.maxChars, ...(rules.pattern ? { pattern: rules.pattern.source } : {}), description, ...extraSchema },
    parse: (value, field) => parseText(value, field, rules, expected),
  });
}

export function booleanField(description: string) {
  return optionality<boolean>({
    jsonSchema: { type: 'boolean', description },
    parse(value, field) {
      if (typeof value !== 'boolean') throw invalidField(field, 'must be true or false (a JSON boolean, not a string)');
      return value;
    },
  });
}

export function integerField(description: string, minimum: number, maximum: number, unit: string) {
  return optionality<number>({
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
  return optionality<V>({
    jsonSchema: { type: 'string', enum: values, description },
    parse(value, field) {
      if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
        throw invalidField(field, `must be one of: ${values.join(', ')}`);
      }
      return value as V;
    },
  });
}

export function parseRequest<S extends RequestSchema>(schema: S, body: unknown): Infer<S> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError(`Send a JSON object with the fields: ${Object.keys(schema).join(', ')}.`);
  }
  const input = body as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(schema, key)) {
      // The unknown key itself is not echoed back.
      throw new InvalidRequestError(`Accepted fields: ${Object.keys(schema).join(', ')}.`, 'unknown-field');
    }
  }
  const output: Record<string, unknown> = {};
  for (const [field, spec] of Object.entries(schema)) {
    if (!Object.hasOwn(input, field)) {
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
