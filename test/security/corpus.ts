// The hostile-input corpus: every group of docs/SECURITY.md's "Bad inputs" table, each case with the
// status and problem type it must get. Sent over real HTTP by corpus.test.ts.
import { gzipSync } from 'node:zlib';
import { TEST_RESERVATIONS_KEY } from '../helpers/handlers.ts';
import { MALFORMED_DATE_TIMES } from '../helpers/date-times.ts';

export interface CorpusCase {
  group: string;
  name: string;
  path: string;
  method?: string;
  headers?: Record<string, string>;
  /** A string or bytes sent as is, or a value sent as JSON. */
  body?: string | Buffer | { json: unknown };
  status: number;
  /** Problem type slug, or 'verdict:false' for a 200 {"valid":false}, or 'ok' for a 200 token. */
  expect: string;
  /** The Allow header a 405 names (POST unless said). */
  allow?: string;
}

/** The appointment the corpus test registers first, so cases can aim at a real one. */
export const CORPUS_APPOINTMENT = { appointmentId: 'corpus-appt', therapistId: 'corpus-t', clientId: 'corpus-c' } as const;

const GENERATE = '/api/jitsi/generate-token';
const CREATE = '/api/jitsi/create-room';
const VALIDATE = '/api/jitsi/validate-token';
const good = { roomName: 'room-1', userName: 'Corpus Person' };
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();
const goodRoom = () => ({ appointmentId: 'appt-1', therapistId: 't-1', clientId: 'c-1', scheduledStartTime: inAnHour() });
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** generate-token with one field set to `value`: a token, or a 400 naming the field. */
const generateWith = (group: string, name: string, field: string, value: unknown, outcome: 'ok' | 'invalid-field'): CorpusCase => ({
  group,
  name,
  path: GENERATE,
  body: { json: { ...good, [field]: value } },
  status: outcome === 'ok' ? 200 : 400,
  expect: outcome,
});

function envelope(): CorpusCase[] {
  const cases: CorpusCase[] = [];
  for (const path of [GENERATE, CREATE, VALIDATE]) {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH'])
      cases.push({
        group: 'envelope',
        name: `${method} ${path}`,
        path,
        method,
        body: method === 'GET' || method === 'DELETE' ? undefined : { json: good },
        status: 405,
        expect: 'method-not-allowed',
      });
  }
  for (const contentType of [
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    'application/json-patch+json',
    'application/json; charset=iso-8859-1',
    'application/jsonx',
    'json',
  ]) {
    cases.push({
      group: 'envelope',
      name: `content-type ${contentType}`,
      path: GENERATE,
      headers: { 'content-type': contentType },
      body: JSON.stringify(good),
      status: 415,
      expect: 'unsupported-media-type',
    });
  }
  cases.push({
    group: 'envelope',
    name: 'no content-type',
    path: GENERATE,
    headers: { 'content-type': '' },
    body: JSON.stringify(good),
    status: 415,
    expect: 'unsupported-media-type',
  });
  for (const encoding of ['gzip', 'deflate', 'br'])
    cases.push({
      group: 'envelope',
      name: `content-encoding ${encoding}`,
      path: GENERATE,
      headers: { 'content-encoding': encoding },
      body: gzipSync(JSON.stringify(good)),
      status: 415,
      expect: 'unsupported-media-type',
    });
  cases.push({
    group: 'envelope',
    name: 'base64 garbage as octet-stream',
    path: GENERATE,
    headers: { 'content-type': 'application/octet-stream' },
    body: Buffer.from('bm90IGpzb24=\u0000\u00ff', 'latin1'),
    status: 415,
    expect: 'unsupported-media-type',
  });
  cases.push({
    group: 'envelope',
    name: 'base64 text as JSON',
    path: GENERATE,
    body: Buffer.from(JSON.stringify(good)).toString('base64'),
    status: 400,
    expect: 'invalid-json',
  });
  cases.push({ group: 'envelope', name: 'empty body', path: GENERATE, body: '', status: 400, expect: 'invalid-json' });
  cases.push({
    group: 'envelope',
    name: 'body of 8 KiB + 1',
    path: GENERATE,
    body: JSON.stringify({ ...good, userName: 'x'.repeat(8192) }),
    status: 413,
    expect: 'payload-too-large',
  });
  cases.push({ group: 'envelope', name: 'body of 2 MiB', path: GENERATE, body: 'x'.repeat(2 * 1024 * 1024), status: 413, expect: 'payload-too-large' });
  cases.push({
    group: 'envelope',
    name: 'invalid UTF-8',
    path: GENERATE,
    body: Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]),
    status: 400,
    expect: 'invalid-json',
  });
  cases.push({ group: 'envelope', name: 'unknown path', path: '/api/jitsi/generate-tokens', body: { json: good }, status: 404, expect: 'not-found' });
  cases.push({
    group: 'envelope',
    name: 'path traversal',
    path: '/api/jitsi/../jitsi/generate-token/..%2f',
    body: { json: good },
    status: 404,
    expect: 'not-found',
  });
  return cases;
}

function jsonSyntax(): CorpusCase[] {
  const bodies: Array<[string, string]> = [
    ['unterminated object', '{"roomName":"a"'],
    ['unterminated string', '{"roomName":"a}'],
    ['trailing comma', '{"roomName":"a",}'],
    ['single quotes', "{'roomName':'a'}"],
    ['unquoted key', '{roomName:"a"}'],
    ['comment', '{"roomName":"a"/* c */}'],
    ['NaN', '{"expiresIn":NaN}'],
    ['Infinity', '{"expiresIn":Infinity}'],
    ['trailing garbage', `${JSON.stringify(good)}x`],
    ['two values', `${JSON.stringify(good)}${JSON.stringify(good)}`],
    ['byte order mark', `\ufeff${JSON.stringify(good)}`],
    ['raw control character in a string', '{"roomName":"a\u0001"}'],
    ['bad escape', '{"roomName":"\\x41"}'],
    ['only whitespace', '   '],
  ];
  const cases: CorpusCase[] = bodies.map(([name, body]) => ({ group: 'JSON', name, path: GENERATE, body, status: 400, expect: 'invalid-json' }));
  for (const [name, body] of [
    ['top-level array', '[]'],
    ['top-level string', '"x"'],
    ['top-level number', '42'],
    ['top-level null', 'null'],
    ['top-level true', 'true'],
  ] as const) {
    cases.push({ group: 'JSON', name, path: GENERATE, body, status: 400, expect: 'invalid-request' });
  }
  cases.push({ group: 'JSON', name: 'nesting 5 deep', path: GENERATE, body: '{"a":{"b":{"c":{"d":{}}}}}', status: 400, expect: 'invalid-json' });
  cases.push({
    group: 'JSON',
    name: 'nesting 10 000 deep',
    path: GENERATE,
    body: `${'['.repeat(4000)}${']'.repeat(4000)}`,
    status: 400,
    expect: 'invalid-json',
  });
  return cases;
}

function structure(): CorpusCase[] {
  const cases: CorpusCase[] = [];
  cases.push({
    group: 'structure',
    name: 'duplicate key',
    path: GENERATE,
    body: '{"roomName":"a","roomName":"b","userName":"c"}',
    status: 400,
    expect: 'invalid-json',
  });
  cases.push({
    group: 'structure',
    name: 'duplicate key by escape',
    path: GENERATE,
    body: '{"roomName":"a","room\\u004eame":"b","userName":"c"}',
    status: 400,
    expect: 'invalid-json',
  });
  cases.push({
    group: 'structure',
    name: 'duplicate isModerator',
    path: GENERATE,
    body: '{"roomName":"a","userName":"c","isModerator":false,"isModerator":true}',
    status: 400,
    expect: 'invalid-json',
  });
  for (const key of ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty']) {
    cases.push({
      group: 'structure',
      name: `key ${key}`,
      path: GENERATE,
      body: `{"roomName":"a","userName":"c","${key}":{"isModerator":true}}`,
      status: 400,
      expect: 'invalid-json',
    });
  }
  for (const [path, body] of [
    [GENERATE, { ...good, moderator: true }],
    [GENERATE, { ...good, room: '*' }],
    [GENERATE, { ...good, context: {} }],
    [CREATE, { ...goodRoom(), roomName: 'x' }],
    [VALIDATE, { token: 'a.b.c', key: 'x' }],
  ] as const) {
    cases.push({ group: 'structure', name: `unknown field on ${path}`, path, body: { json: body }, status: 400, expect: 'unknown-field' });
  }
  return cases;
}

function types(): CorpusCase[] {
  const cases: CorpusCase[] = [];
  const wrongForString: unknown[] = [42, true, [], {}];
  const wrong = (field: string, value: unknown) => generateWith('types', `${field} = ${JSON.stringify(value)}`, field, value, 'invalid-field');
  for (const field of ['roomName', 'userName', 'userEmail', 'userId', 'appointmentId']) {
    for (const value of wrongForString) cases.push(wrong(field, value));
    // null and "" mean absent, as in the original server: fine for optional fields, and for the
    // room and the name (needed here) a 400 naming them.
    for (const value of [null, '']) {
      const needed = field === 'roomName' || field === 'userName';
      cases.push(generateWith('types', `${field} = ${JSON.stringify(value)} (absent)`, field, value, needed ? 'invalid-field' : 'ok'));
    }
  }
  for (const value of ['true', 1, 0, []]) cases.push(wrong('isModerator', value));
  for (const value of ['3600', 1.5, -1, 0, 59, 86_401, 1e21, true, [], {}, '1h']) cases.push(wrong('expiresIn', value));
  for (const value of [60, '60'])
    cases.push({
      group: 'types',
      name: `durationMinutes = ${JSON.stringify(value)}`,
      path: CREATE,
      body: { json: { ...goodRoom(), durationMinutes: value } },
      status: typeof value === 'number' ? 200 : 400,
      expect: typeof value === 'number' ? 'ok' : 'invalid-field',
    });
  cases.push({
    group: 'types',
    name: 'callType = "screen"',
    path: CREATE,
    body: { json: { ...goodRoom(), callType: 'screen' } },
    status: 400,
    expect: 'invalid-field',
  });
  cases.push({ group: 'types', name: 'missing roomName', path: GENERATE, body: { json: { userName: 'x' } }, status: 400, expect: 'invalid-field' });
  cases.push({ group: 'types', name: 'missing userName', path: GENERATE, body: { json: { roomName: 'x' } }, status: 400, expect: 'invalid-field' });
  cases.push({
    group: 'types',
    name: 'missing clientId',
    path: CREATE,
    body: { json: { ...goodRoom(), clientId: undefined } },
    status: 400,
    expect: 'invalid-field',
  });
  return cases;
}

function strings(): CorpusCase[] {
  const bad: Array<[string, string]> = [
    ['empty', ''],
    ['spaces', '   '],
    ['ideographic space', '\u3000'],
    ['129 characters', 'a'.repeat(129)],
    ['600 bytes of emoji', '😀'.repeat(150)],
    ['NUL', 'Ada\u0000'],
    ['newline', 'Ada\nLovelace'],
    ['escape', 'Ada\u001b[31m'],
    ['DEL', 'Ada\u007f'],
    ['C1 control', 'Ada\u0085'],
    ['lone high surrogate', 'Ada\ud800'],
    ['lone low surrogate', '\udc00Ada'],
    ['right-to-left override', 'Ada\u202eevil'],
    ['left-to-right isolate', '\u2066Ada'],
    ['right-to-left mark', 'Ada\u200f'],
    ['zero-width space', 'A\u200bda'],
    ['zero-width joiner between letters', 'A\u200dda'],
    ['word joiner', 'A\u2060da'],
    ['BOM inside', 'A\ufeffda'],
    ['HTML tag', '<b>Ada</b>'],
    ['script', '<script>alert(1)</script>'],
    ['soft hyphen only (format)', '\u00ad'],
    ['tag characters', 'Ada\u{e0041}\u{e0064}'],
    ['private-use character', 'Ada\ue000'],
    ['unassigned code point', 'Ada\u0378'],
    ['line separator', 'Ada\u2028Lovelace'],
    ['paragraph separator', 'Ada\u2029Lovelace'],
    ['Hangul fillers only', '\u3164\u3164'],
    ['braille blanks only', '\u2800\u2800'],
    ['halfwidth Hangul filler', '\uffa0'],
    ['punctuation only', '...'],
    ['ideographic spaces only', '\u3000\u3000'],
  ];
  const cases: CorpusCase[] = bad.map(([name, value]) => generateWith('strings', `userName ${name}`, 'userName', value, 'invalid-field'));
  for (const [name, value] of [
    ['therapistName with bidi', 'Dr\u202e'],
    ['clientName with NUL', 'C\u0000'],
  ] as const) {
    const field = name.split(' ')[0]!;
    cases.push({ group: 'strings', name, path: CREATE, body: { json: { ...goodRoom(), [field]: value } }, status: 400, expect: 'invalid-field' });
  }
  for (const value of ['Room', 'ROOM', 'Ataraxia-UserAbc-1699999999999'])
    cases.push(generateWith('strings', `roomName ${value} accepted (lowercased)`, 'roomName', value, 'ok'));
  const real: Array<[string, string]> = [
    ['Arabic', 'محمد علي'],
    ['Hebrew', 'שרה כהן'],
    ['CJK', '王小明'],
    ['emoji', 'Zoë 👩‍⚕️'],
    ['family emoji', '👨‍👩‍👧'],
    ['Devanagari', 'प्रिया'],
    ['apostrophe and accents', "O'Brien-Núñez"],
    ['decomposed accent', 'Zoe\u0308'],
    ['subdivision flag', '🏴\u{e0067}\u{e0062}\u{e0077}\u{e006c}\u{e0073}\u{e007f}'],
    ['country flag and skin tone', '🇳🇱 👍🏽'],
  ];
  for (const [name, value] of real) cases.push(generateWith('strings', `userName ${name} accepted`, 'userName', value, 'ok'));
  for (const value of ['not-an-email', 'a@b', 'a b@example.com', '<a@example.com>', `${'a'.repeat(65)}@example.com`])
    cases.push(generateWith('strings', `userEmail ${value.slice(0, 20)}`, 'userEmail', value, 'invalid-field'));
  // No host is allowed by default (AVATAR_HOSTS empty): any avatar URL is refused.
  for (const value of [
    'http://example.com/a.png',
    'javascript:alert(1)',
    'data:image/png;base64,AAAA',
    'https://exa mple.com/',
    'https://tracker.example.net/p.png',
    'https://203.0.113.9/a.png',
    'https://u:p@avatars.example.com/a.png',
  ])
    cases.push(generateWith('strings', `userAvatar ${value.slice(0, 20)}`, 'userAvatar', value, 'invalid-field'));
  for (const value of ['user 1', 'user\u0000', '../admin', 'a'.repeat(129), '*'])
    cases.push(generateWith('strings', `userId ${JSON.stringify(value).slice(0, 20)}`, 'userId', value, 'invalid-field'));
  return cases;
}

function roomNames(): CorpusCase[] {
  const bad = [
    'a/b',
    'a@b',
    'my room',
    '..',
    '.',
    '*',
    'a%2Fb',
    'café',
    'raum-ü',
    'a'.repeat(129),
    '-room',
    '_room',
    'room?x=1',
    'room#x',
    'room\\x',
    'ro\u200bom',
    'ｒｏｏｍ',
    'room.name',
    'room:1',
    '',
  ];
  const cases: CorpusCase[] = bad.map((roomName) => generateWith('room names', JSON.stringify(roomName).slice(0, 30), 'roomName', roomName, 'invalid-field'));
  for (const roomName of ['a', '0', 'room-1', 'room_1', 'a'.repeat(128)])
    cases.push(generateWith('room names', `${roomName.slice(0, 20)} accepted`, 'roomName', roomName, 'ok'));
  return cases;
}

function times(): CorpusCase[] {
  const bad = [
    ...MALFORMED_DATE_TIMES,
    // Well-formed, but too far ahead, past what a Date holds, or empty.
    '2099-01-01T00:00:00Z',
    '+275760-09-13T00:00:00Z',
    '',
    // Not a string.
    1_800_000_000,
    null,
    true,
  ];
  const cases: CorpusCase[] = bad.map((value) => ({
    group: 'times',
    name: `scheduledStartTime ${JSON.stringify(value)}`,
    path: CREATE,
    body: { json: { ...goodRoom(), scheduledStartTime: value } },
    status: 400,
    expect: 'invalid-field',
  }));
  // A real instant that has passed: its own problem type, so the web client can say why.
  cases.push({
    group: 'times',
    name: 'scheduledStartTime "2000-01-01T00:00:00Z" (ended)',
    path: CREATE,
    body: { json: { ...goodRoom(), scheduledStartTime: '2000-01-01T00:00:00Z' } },
    status: 409,
    expect: 'appointment-ended',
  });
  for (const value of [4, 721, 1.5, -60])
    cases.push({
      group: 'times',
      name: `durationMinutes ${value}`,
      path: CREATE,
      body: { json: { ...goodRoom(), durationMinutes: value } },
      status: 400,
      expect: 'invalid-field',
    });
  cases.push({
    group: 'times',
    name: 'a window that is open now',
    path: CREATE,
    body: { json: { ...goodRoom(), scheduledStartTime: new Date(Date.now() - 600_000).toISOString() } },
    status: 200,
    expect: 'ok',
  });
  return cases;
}

function tokensToValidate(): CorpusCase[] {
  const cases: CorpusCase[] = [];
  for (const [name, body] of [
    ['missing token', {}],
    ['token number', { token: 42 }],
    ['token null', { token: null }],
    ['token array', { token: ['a.b.c'] }],
    ['token object', { token: { a: 1 } }],
  ] as const) {
    cases.push({ group: 'tokens', name, path: VALIDATE, body: { json: body }, status: 400, expect: 'invalid-field' });
  }
  cases.push({
    group: 'tokens',
    name: 'token over 4 KiB',
    path: VALIDATE,
    body: { json: { token: `${'a'.repeat(3000)}.${'b'.repeat(1000)}.${'c'.repeat(200)}` } },
    status: 413,
    expect: 'payload-too-large',
  });
  const header = b64({ alg: 'HS256', typ: 'JWT' });
  const payload = b64({ iss: 'test-app', aud: 'test-app', sub: 'meet.example.test', room: 'r', exp: 9_999_999_999 });
  const invalid = [
    '',
    ' ',
    'Bearer a.b.c',
    'a.b',
    'a.b.c.d',
    `${header}.${payload}`,
    `${header}.${payload}.`,
    `${header}.${payload}.c2ln==`,
    `${header}.${payload}.c2ln+/`,
    `\t${header}.${payload}.sig`,
    'null',
    '{"alg":"none"}',
    '..',
    'ÿ.ÿ.ÿ',
  ];
  for (const token of invalid)
    cases.push({
      group: 'tokens',
      name: `token ${JSON.stringify(token).slice(0, 24)}`,
      path: VALIDATE,
      body: { json: { token } },
      status: 200,
      expect: 'verdict:false',
    });
  return cases;
}

function appointments(): CorpusCase[] {
  const { appointmentId, therapistId, clientId } = CORPUS_APPOINTMENT;
  const item = (query: string, id: string = appointmentId) => `/api/jitsi/appointments/${id}${query}`;
  const asTherapist = item(`?userId=${therapistId}`);
  const group = 'appointments';
  const cases: CorpusCase[] = [
    { group, name: 'status without the asking userId', path: item(''), method: 'GET', status: 400, expect: 'invalid-field' },
    { group, name: 'status asked by a stranger', path: item('?userId=stranger'), method: 'GET', status: 403, expect: 'forbidden' },
    {
      group,
      name: 'status of an unknown id (same answer as a stranger)',
      path: item(`?userId=${therapistId}`, 'no-such-appointment'),
      method: 'GET',
      status: 403,
      expect: 'forbidden',
    },
    { group, name: 'an unknown query parameter', path: item(`?userId=${therapistId}&debug=1`), method: 'GET', status: 400, expect: 'unknown-field' },
    { group, name: 'a NUL in the userId', path: item('?userId=%00'), method: 'GET', status: 400, expect: 'invalid-field' },
    { group, name: 'a userId of 200 characters', path: item(`?userId=${'u'.repeat(200)}`), method: 'GET', status: 400, expect: 'invalid-field' },
    { group, name: 'an emoji appointment id', path: item(`?userId=${therapistId}`, '%F0%9F%92%A9'), method: 'GET', status: 400, expect: 'invalid-field' },
    {
      group,
      name: 'an encoded slash in the id (a visible character: an unknown appointment)',
      path: item(`?userId=${therapistId}`, 'a%2Fb'),
      method: 'GET',
      status: 403,
      expect: 'forbidden',
    },
    { group, name: 'an id of 300 characters', path: item(`?userId=${therapistId}`, 'a'.repeat(300)), method: 'GET', status: 400, expect: 'invalid-field' },
    {
      group,
      name: 'POST on the appointment',
      path: asTherapist,
      method: 'POST',
      body: { json: {} },
      status: 405,
      expect: 'method-not-allowed',
      allow: 'GET, PATCH, DELETE',
    },
    {
      group,
      name: 'move without a content type',
      path: asTherapist,
      method: 'PATCH',
      headers: { 'content-type': '' },
      body: '{}',
      status: 415,
      expect: 'unsupported-media-type',
    },
    { group, name: 'move with broken JSON', path: asTherapist, method: 'PATCH', body: '{"scheduledStartTime":', status: 400, expect: 'invalid-json' },
    { group, name: 'move without a time', path: asTherapist, method: 'PATCH', body: { json: {} }, status: 400, expect: 'invalid-field' },
    {
      group,
      name: 'move to "tomorrow"',
      path: asTherapist,
      method: 'PATCH',
      body: { json: { scheduledStartTime: 'tomorrow' } },
      status: 400,
      expect: 'invalid-field',
    },
    {
      group,
      name: 'move with an unknown field',
      path: asTherapist,
      method: 'PATCH',
      body: { json: { scheduledStartTime: inAnHour(), room: 'x' } },
      status: 400,
      expect: 'unknown-field',
    },
    {
      group,
      name: 'move to a time that has passed',
      path: asTherapist,
      method: 'PATCH',
      body: { json: { scheduledStartTime: '2020-01-01T10:00:00Z' } },
      status: 409,
      expect: 'appointment-ended',
    },
    {
      group,
      name: 'move by the client',
      path: item(`?userId=${clientId}`),
      method: 'PATCH',
      body: { json: { scheduledStartTime: inAnHour() } },
      status: 403,
      expect: 'forbidden',
    },
    { group, name: 'cancel by the client', path: item(`?userId=${clientId}`), method: 'DELETE', status: 403, expect: 'forbidden' },
    {
      group,
      name: 'audit trail asked by the client',
      path: `${item('', appointmentId)}/audit?userId=${clientId}`,
      method: 'GET',
      status: 403,
      expect: 'forbidden',
    },
    {
      group,
      name: 'audit trail asked by the therapist',
      path: `${item('', appointmentId)}/audit?userId=${therapistId}`,
      method: 'GET',
      status: 200,
      expect: 'ok',
    },
    {
      group,
      name: 'a token for an appointment-prefixed room no appointment has',
      path: GENERATE,
      body: { json: { ...good, roomName: `appt-${'a'.repeat(26)}` } },
      status: 403,
      expect: 'forbidden',
    },
    {
      group,
      name: 'a token for the appointment, asked by a stranger (no room named)',
      path: GENERATE,
      body: { json: { ...good, roomName: undefined, appointmentId, userId: 'intruder' } },
      status: 403,
      expect: 'forbidden',
    },
    {
      group,
      name: 'a moderator token asked by the client',
      path: GENERATE,
      body: { json: { ...good, appointmentId, userId: clientId, isModerator: true } },
      status: 403,
      expect: 'forbidden',
    },
    {
      group,
      name: 'the appointment registered by another therapist',
      path: CREATE,
      body: { json: { ...goodRoom(), appointmentId, therapistId: 'other-t' } },
      status: 403,
      expect: 'forbidden',
    },
    {
      group,
      name: 'the appointment registered with another client',
      path: CREATE,
      body: { json: { ...goodRoom(), appointmentId, therapistId, clientId: 'other-c' } },
      status: 409,
      expect: 'appointment-conflict',
    },
  ];
  return cases;
}

function reservations(): CorpusCase[] {
  const group = 'reservations';
  const form = 'application/x-www-form-urlencoded';
  const key = { authorization: `Bearer ${TEST_RESERVATIONS_KEY}` };
  const asProsody = (extra: Record<string, string> = {}) => ({ ...key, 'content-type': form, ...extra });
  const fields = (overrides: Record<string, string> = {}) =>
    new URLSearchParams({ name: 'room-1', start_time: new Date().toISOString(), mail_owner: 'guest@meet.example.com', ...overrides }).toString();
  const CONFERENCE = '/api/jitsi/reservations/conference';
  const EXCHANGE = '/api/jitsi/join-links/exchange';
  return [
    { group, name: 'no key', path: CONFERENCE, headers: { 'content-type': form }, body: fields(), status: 401, expect: 'unauthenticated' },
    {
      group,
      name: 'a wrong key',
      path: CONFERENCE,
      headers: asProsody({ authorization: 'Bearer wrong-key-wrong-key-wrong-key-wrong-key' }),
      body: fields(),
      status: 401,
      expect: 'unauthenticated',
    },
    {
      group,
      name: 'the key without Bearer',
      path: CONFERENCE,
      headers: asProsody({ authorization: TEST_RESERVATIONS_KEY }),
      body: fields(),
      status: 401,
      expect: 'unauthenticated',
    },
    {
      group,
      name: 'a JSON body by mistake',
      path: CONFERENCE,
      headers: asProsody({ 'content-type': 'application/json' }),
      body: '{"name":"room-1"}',
      status: 415,
      expect: 'unsupported-media-type',
    },
    { group, name: 'an empty body', path: CONFERENCE, headers: asProsody(), body: '', status: 400, expect: 'invalid-field' },
    { group, name: 'no start_time', path: CONFERENCE, headers: asProsody(), body: 'name=room-1&mail_owner=x%40y', status: 400, expect: 'invalid-field' },
    {
      group,
      name: 'an unparsable start_time',
      path: CONFERENCE,
      headers: asProsody(),
      body: fields({ start_time: '25/11/2026 10:00' }),
      status: 400,
      expect: 'invalid-field',
    },
    { group, name: 'a name with a slash', path: CONFERENCE, headers: asProsody(), body: fields({ name: 'a/b' }), status: 400, expect: 'invalid-field' },
    { group, name: 'a name with a NUL', path: CONFERENCE, headers: asProsody(), body: fields({ name: 'a\u0000b' }), status: 400, expect: 'invalid-field' },
    { group, name: 'an unclosed tenant', path: CONFERENCE, headers: asProsody(), body: fields({ name: '[acme-room' }), status: 400, expect: 'invalid-field' },
    {
      group,
      name: 'a mail_owner with markup',
      path: CONFERENCE,
      headers: asProsody(),
      body: fields({ mail_owner: '<script>@x' }),
      status: 400,
      expect: 'invalid-field',
    },
    { group, name: 'a field twice', path: CONFERENCE, headers: asProsody(), body: `${fields()}&name=room-2`, status: 400, expect: 'invalid-request' },
    { group, name: 'an unknown field', path: CONFERENCE, headers: asProsody(), body: `${fields()}&password=x`, status: 400, expect: 'unknown-field' },
    { group, name: 'a body of 10 KiB', path: CONFERENCE, headers: asProsody(), body: `name=${'a'.repeat(10_240)}`, status: 413, expect: 'payload-too-large' },
    {
      group,
      name: 'gzip',
      path: CONFERENCE,
      headers: asProsody({ 'content-encoding': 'gzip' }),
      body: gzipSync(fields()),
      status: 415,
      expect: 'unsupported-media-type',
    },
    {
      group,
      name: 'an appointment-prefixed room no appointment has',
      path: CONFERENCE,
      headers: asProsody(),
      body: fields({ name: `appt-${'c'.repeat(26)}` }),
      status: 403,
      expect: 'room-refused',
    },
    { group, name: 'GET of an unknown conference', path: `${CONFERENCE}/never-open`, method: 'GET', headers: key, status: 404, expect: 'not-found' },
    { group, name: 'DELETE of an unknown conference', path: `${CONFERENCE}/never-open`, method: 'DELETE', headers: key, status: 404, expect: 'not-found' },
    { group, name: 'a conference id with a dot', path: `${CONFERENCE}/a.b`, method: 'GET', headers: key, status: 400, expect: 'invalid-field' },
    { group, name: 'PUT on the conference', path: CONFERENCE, method: 'PUT', headers: asProsody(), body: fields(), status: 405, expect: 'method-not-allowed' },
    { group, name: 'a join code that was never made', path: EXCHANGE, body: { json: { code: 'A'.repeat(43) } }, status: 404, expect: 'join-link-unavailable' },
    { group, name: 'a join code too short', path: EXCHANGE, body: { json: { code: 'abc' } }, status: 400, expect: 'invalid-field' },
    { group, name: 'a join code as a number', path: EXCHANGE, body: { json: { code: 12345 } }, status: 400, expect: 'invalid-field' },
    {
      group,
      name: 'a join code with an extra field',
      path: EXCHANGE,
      body: { json: { code: 'A'.repeat(43), role: 'owner' } },
      status: 400,
      expect: 'unknown-field',
    },
    {
      group,
      name: 'a join link for an unknown appointment',
      path: '/api/jitsi/appointments/nope/join-links?userId=corpus-t',
      status: 403,
      expect: 'forbidden',
    },
  ];
}

export function buildCorpus(): CorpusCase[] {
  return [
    ...envelope(),
    ...jsonSyntax(),
    ...structure(),
    ...types(),
    ...strings(),
    ...roomNames(),
    ...times(),
    ...tokensToValidate(),
    ...appointments(),
    ...reservations(),
  ];
}
