import { describe, expect, it } from 'vitest';
import { toProblem } from '../../lib/http/problem-errors.ts';
import type { HttpProblem } from '../../lib/problem.ts';
import { createRoomRequest, generateTokenRequest, parseIsoDateTime, validateTokenRequest } from '../../lib/requests.ts';
import { parseRequest } from '../../lib/schema.ts';
import { SEED_GENERATE_TOKEN_REQUEST } from '../helpers/seed.ts';
import { MALFORMED_DATE_TIMES } from '../helpers/date-times.ts';

const generate = generateTokenRequest({ tokenTtlMaxSeconds: 86_400, avatarHosts: ['avatars.example.com'] });
const problemOf = (fn: () => unknown): HttpProblem => {
  try {
    fn();
  } catch (error) {
    const problem = toProblem(error);
    if (problem) return problem;
    throw error;
  }
  throw new Error('no problem thrown');
};
const base = { roomName: 'room-1', userName: 'Ada' };

describe('generate-token request', () => {
  it('accepts the seed request unchanged', () => {
    const seed = { ...SEED_GENERATE_TOKEN_REQUEST };
    expect(parseRequest(generate, seed)).toEqual(seed);
  });

  it.each([
    ['"3600" (read as milliseconds by jsonwebtoken)', '3600'],
    ['1.5', 1.5],
    ['-1', -1],
    ['0', 0],
    ['59', 59],
    ['above the maximum', 86_401],
    ['1e21', 1e21],
    ['true', true],
    ['[]', []],
  ])('refuses expiresIn %s with the field named', (_, expiresIn) => {
    const problem = problemOf(() => parseRequest(generate, { ...base, expiresIn }));
    expect(problem.status).toBe(400);
    expect(problem.options.field).toBe('expiresIn');
  });

  it.each([
    ['"true" for a boolean', { isModerator: 'true' }, 'isModerator'],
    ['a number for a string', { userName: 42 }, 'userName'],
    ['an object for a string', { userName: { a: 1 } }, 'userName'],
    ['a number for a string', { userEmail: 42 }, 'userEmail'],
    ['a whitespace name', { userName: ' \u3000 ' }, 'userName'],
    ['a NUL', { userName: 'Ada\u0000' }, 'userName'],
    ['a tab', { userName: 'Ada\tB' }, 'userName'],
    ['a lone surrogate', { userName: 'Ada\ud800' }, 'userName'],
    ['a bidi override', { userName: 'Ada\u202eevil' }, 'userName'],
    ['a zero-width space', { userName: 'A\u200bda' }, 'userName'],
    ['HTML', { userName: '<img src=x onerror=alert(1)>' }, 'userName'],
    ['a name too long', { userName: 'a'.repeat(129) }, 'userName'],
    ['room with a slash', { roomName: 'a/b' }, 'roomName'],
    ['room with @', { roomName: 'a@b' }, 'roomName'],
    ['room with a space', { roomName: 'my room' }, 'roomName'],
    ['room ..', { roomName: '..' }, 'roomName'],
    ['room *', { roomName: '*' }, 'roomName'],
    ['room %2F', { roomName: 'a%2Fb' }, 'roomName'],
    ['room non-ASCII', { roomName: 'café' }, 'roomName'],
    ['room too long', { roomName: 'a'.repeat(129) }, 'roomName'],
    ['bad email', { userEmail: 'not-an-email' }, 'userEmail'],
    ['http avatar', { userAvatar: 'http://x.example/a.png' }, 'userAvatar'],
    ['javascript avatar', { userAvatar: 'javascript:alert(1)' }, 'userAvatar'],
    ['avatar on a host not allowed', { userAvatar: 'https://tracker.example.net/pixel.png' }, 'userAvatar'],
    ['avatar on an IP literal', { userAvatar: 'https://203.0.113.9/a.png' }, 'userAvatar'],
    ['avatar with credentials', { userAvatar: 'https://user:pw@avatars.example.com/a.png' }, 'userAvatar'],
    ['avatar with a port', { userAvatar: 'https://avatars.example.com:8443/a.png' }, 'userAvatar'],
    ['avatar with a space', { userAvatar: 'https://avatars.example.com/a b.png' }, 'userAvatar'],
    ['name with a soft hyphen only (format)', { userName: '\u00ad' }, 'userName'],
    ['name with a word joiner (format)', { userName: 'Ada\u2060Lovelace' }, 'userName'],
    ['name with tag characters', { userName: 'Ada\u{e0041}\u{e0042}' }, 'userName'],
    ['name with a private-use character', { userName: 'Ada \ue000' }, 'userName'],
    ['name with an unassigned code point', { userName: 'Ada \u0378' }, 'userName'],
    ['name with a line separator', { userName: 'Ada\u2028Lovelace' }, 'userName'],
    ['name with a paragraph separator', { userName: 'Ada\u2029Lovelace' }, 'userName'],
    ['name of Hangul fillers', { userName: '\u3164\u3164' }, 'userName'],
    ['name of a Hangul choseong filler', { userName: '\u115f' }, 'userName'],
    ['name of braille blanks', { userName: '\u2800\u2800' }, 'userName'],
    ['name of halfwidth Hangul fillers', { userName: '\uffa0' }, 'userName'],
    ['name with a combining grapheme joiner', { userName: 'A\u034fB' }, 'userName'],
    ['name of punctuation only', { userName: '...' }, 'userName'],
    ['name of ideographic spaces', { userName: '\u3000\u3000' }, 'userName'],
  ])('refuses %s', (_, fields, field) => {
    const problem = problemOf(() => parseRequest(generate, { ...base, ...fields }));
    expect(problem.status).toBe(400);
    expect(problem.options.field).toBe(field);
  });

  it('refuses unknown fields without echoing them, and non-object bodies', () => {
    const problem = problemOf(() => parseRequest(generate, { ...base, secretAgenda: 1 }));
    expect(problem.type).toBe('unknown-field');
    expect(JSON.stringify(problem.options)).not.toContain('secretAgenda');
    for (const body of [[], 'x', 3, null, true]) expect(problemOf(() => parseRequest(generate, body)).status).toBe(400);
  });

  it('treats null and "" in an optional field as absent, as the original server did; a required field stays required', () => {
    for (const absent of [null, '']) {
      const parsed = parseRequest(generate, {
        ...base,
        userEmail: absent,
        userId: absent,
        appointmentId: absent,
        isModerator: absent,
        expiresIn: absent,
        tenant: absent,
      });
      expect(parsed).toEqual({ roomName: base.roomName, userName: base.userName });
      const create = createRoomRequest();
      const room = { appointmentId: 'a', clientId: 'c', scheduledStartTime: '2030-01-01T10:00:00Z' };
      expect(problemOf(() => parseRequest(create, { ...room, clientId: absent })).options.field).toBe('clientId');
    }
  });

  it('accepts capitals in a room name (Jitsi compares rooms lowercased) and returns the lowercase form that goes into the token', () => {
    expect(parseRequest(generate, { ...base, roomName: 'Ataraxia-UserAbc-1699999999999' }).roomName).toBe('ataraxia-userabc-1699999999999');
    for (const changed of ['Café', 'ROOM NAME', 'Ｒoom', 'ﬁle'])
      expect(problemOf(() => parseRequest(generate, { ...base, roomName: changed })).options.field).toBe('roomName');
  });

  it('accepts the appointment ids the web client makes', () => {
    for (const id of ['-7-0-1731571200000', '_x', '#12/34', 'appt-456']) expect(parseRequest(generate, { ...base, appointmentId: id }).appointmentId).toBe(id);
    for (const id of ['has space', 'tab\tid', 'é', 'x'.repeat(129)])
      expect(problemOf(() => parseRequest(generate, { ...base, appointmentId: id })).options.field).toBe('appointmentId');
  });

  it('accepts an avatar on an allowed host only', () => {
    expect(parseRequest(generate, { ...base, userAvatar: 'https://avatars.example.com/u/1.png?s=64' }).userAvatar).toBe(
      'https://avatars.example.com/u/1.png?s=64',
    );
    const closed = generateTokenRequest({ tokenTtlMaxSeconds: 86_400, avatarHosts: [] });
    expect(problemOf(() => parseRequest(closed, { ...base, userAvatar: 'https://avatars.example.com/u/1.png' })).options.field).toBe('userAvatar');
  });

  it('accepts real scripts and emoji, NFC-normalised, unchanged otherwise', () => {
    for (const name of [
      'محمد علي',
      'שרה כהן',
      '王小明',
      'देवनागरी नाम',
      'Zoë 👩‍⚕️',
      '👨‍👩‍👧 family',
      "O'Brien-Núñez",
      '🏴\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}',
      '🇳🇱',
      '👍🏽',
      '1️⃣',
    ]) {
      expect(parseRequest(generate, { ...base, userName: name }).userName).toBe(name.normalize('NFC'));
    }
    expect(parseRequest(generate, { ...base, userName: 'Zoe\u0308' }).userName).toBe('Zoë');
  });
});

describe('create-room and validate-token requests', () => {
  it('accepts the seed create-room request', () => {
    const seed = {
      appointmentId: 'appt-456',
      therapistId: 'therapist-123',
      clientId: 'client-789',
      scheduledStartTime: '2024-11-14T10:00:00Z',
      callType: 'video',
    };
    expect(parseRequest(createRoomRequest(), seed)).toMatchObject({ appointmentId: 'appt-456', scheduledStartTime: Date.UTC(2024, 10, 14, 10) });
  });

  it('refuses a token over 4 KiB with 413 and a non-string with 400', () => {
    expect(problemOf(() => parseRequest(validateTokenRequest(), { token: 'a'.repeat(4097) })).status).toBe(413);
    expect(problemOf(() => parseRequest(validateTokenRequest(), { token: 7 })).status).toBe(400);
    expect(problemOf(() => parseRequest(validateTokenRequest(), {})).options.field).toBe('token');
    expect(parseRequest(validateTokenRequest(), { token: ' ' }).token).toBe(' ');
  });
});

describe('parseIsoDateTime', () => {
  it.each([
    ['2026-11-14T10:00:00Z', Date.UTC(2026, 10, 14, 10)],
    ['2026-11-14T10:00Z', Date.UTC(2026, 10, 14, 10)],
    ['2026-11-14T11:30:00+01:30', Date.UTC(2026, 10, 14, 10)],
    ['2026-11-14T10:00:00.123456789Z', Date.UTC(2026, 10, 14, 10, 0, 0, 123)],
    ['2024-02-29T10:00:00Z', Date.UTC(2024, 1, 29, 10)],
  ])('reads %s', (text, expected) => expect(parseIsoDateTime(text)).toBe(expected));

  it.each(MALFORMED_DATE_TIMES)('refuses %s', (text) => expect(parseIsoDateTime(text)).toBeUndefined());
});
