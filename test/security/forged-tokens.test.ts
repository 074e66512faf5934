// The forged-token catalogue: every way to make validate-token say "valid" that it must refuse,
// sent over HTTP to the local server. 0 may be accepted.
import { createHmac, createSign, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../infra/local/server.ts';
import { TEST_APP_SECRET } from '../helpers/handlers.ts';
import { b64url, decodeJwt } from '../helpers/jwt.ts';
import { post, startServer } from '../helpers/local-server.ts';

let server: RunningServer;
let genuine: string;
const results: Array<{ name: string; valid: boolean }> = [];

const now = () => Math.floor(Date.now() / 1000);
const claims = () => ({
  iss: 'test-app',
  aud: 'test-app',
  sub: 'meet.example.test',
  room: 'room-1',
  iat: now(),
  nbf: now() - 30,
  exp: now() + 3600,
  moderator: true,
  context: { user: { id: 'attacker', name: 'Mallory', moderator: 'true', affiliation: 'owner' } },
});
const hs = (header: object, payload: object, secret: string | Buffer = TEST_APP_SECRET, algorithm = 'sha256') => {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${createHmac(algorithm, secret).update(input).digest('base64url')}`;
};
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
const attackerPublicPem = attacker.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const rs256 = (header: object, payload: object) => {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(attacker.privateKey).toString('base64url')}`;
};
const H = { alg: 'HS256', typ: 'JWT' };

beforeAll(async () => {
  server = await startServer();
  genuine = (await post(`${server.url}/api/jitsi/generate-token`, { roomName: 'room-1', userName: 'Genuine' })).body.token;
});
afterAll(async () => {
  await server.close();
  mkdirSync('test-artifacts/figures', { recursive: true });
  writeFileSync(
    'test-artifacts/figures/forged-tokens.json',
    JSON.stringify({ tried: results.length, accepted: results.filter((result) => result.valid).length }, null, 2),
  );
});

function catalogue(): Array<[string, () => string]> {
  const [h, p, s] = genuine.split('.') as [string, string, string];
  const payload = decodeJwt(genuine).payload;
  const entries: Array<[string, () => string]> = [];
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    entries.push([`alg ${alg} without signature`, () => `${b64url({ alg, typ: 'JWT' })}.${b64url(claims())}.`]);
    entries.push([`alg ${alg} with the genuine signature`, () => `${b64url({ alg, typ: 'JWT' })}.${p}.${s}`]);
    entries.push([`alg ${alg} with an HMAC signature`, () => hs({ alg, typ: 'JWT' }, claims())]);
  }
  entries.push(['HS384 with the app secret', () => hs({ alg: 'HS384', typ: 'JWT' }, claims(), TEST_APP_SECRET, 'sha384')]);
  entries.push(['HS512 with the app secret', () => hs({ alg: 'HS512', typ: 'JWT' }, claims(), TEST_APP_SECRET, 'sha512')]);
  entries.push(['RS256 with an attacker key', () => rs256({ alg: 'RS256', typ: 'JWT' }, claims())]);
  entries.push(['HS256 signed with an RSA public key (PEM)', () => hs(H, claims(), attackerPublicPem)]);
  entries.push(['HS256 signed with an RSA public key (DER)', () => hs(H, claims(), attacker.publicKey.export({ type: 'spki', format: 'der' }))]);
  entries.push(['embedded jwk with the attacker key', () => rs256({ alg: 'RS256', typ: 'JWT', jwk: attacker.publicKey.export({ format: 'jwk' }) }, claims())]);
  entries.push([
    'embedded oct jwk, HS256',
    () => hs({ ...H, jwk: { kty: 'oct', k: b64url('attacker-secret-attacker-secret-attacker') } }, claims(), 'attacker-secret-attacker-secret-attacker'),
  ]);
  entries.push(['jku pointing at an attacker JWKS', () => rs256({ alg: 'RS256', typ: 'JWT', jku: 'https://attacker.example/jwks.json' }, claims())]);
  entries.push(['x5u pointing at an attacker certificate', () => rs256({ alg: 'RS256', typ: 'JWT', x5u: 'https://attacker.example/cert.pem' }, claims())]);
  for (const kid of ['../../../../dev/null', "' OR '1'='1", '| cat /etc/passwd', '\u0000', 'AWSPREVIOUS', '*']) {
    entries.push([`kid injection ${JSON.stringify(kid)} with an empty secret`, () => hs({ ...H, kid }, claims(), '')]);
    entries.push([`kid injection ${JSON.stringify(kid)} with the word as secret`, () => hs({ ...H, kid }, claims(), kid || 'x')]);
  }
  entries.push(['altered payload (moderator true)', () => `${h}.${b64url({ ...payload, moderator: true })}.${s}`]);
  entries.push(['altered payload (other room)', () => `${h}.${b64url({ ...payload, room: 'other-room' })}.${s}`]);
  entries.push(['altered payload (exp extended)', () => `${h}.${b64url({ ...payload, exp: payload.exp + 86_400 })}.${s}`]);
  entries.push(['truncated signature', () => `${h}.${p}.${s.slice(0, -4)}`]);
  entries.push(['empty signature', () => `${h}.${p}.`]);
  entries.push(['padded signature', () => `${h}.${p}.${s}=`]);
  entries.push(['standard-base64 signature', () => `${h}.${p}.${Buffer.from(s, 'base64url').toString('base64')}`]);
  entries.push([
    'signature with a flipped bit',
    () => `${h}.${p}.${Buffer.from(Buffer.from(s, 'base64url').map((byte, index) => (index === 0 ? byte ^ 1 : byte))).toString('base64url')}`,
  ]);
  entries.push(['two parts', () => `${h}.${p}`]);
  entries.push(['four parts', () => `${genuine}.${s}`]);
  entries.push(['whitespace around', () => ` ${genuine} `]);
  entries.push(['Bearer prefix', () => `Bearer ${genuine}`]);
  entries.push(['header typ missing', () => hs({ alg: 'HS256' }, claims())]);
  entries.push(['header typ "jwt"', () => hs({ alg: 'HS256', typ: 'jwt' }, claims())]);
  entries.push(['header typ "at+jwt"', () => hs({ alg: 'HS256', typ: 'at+jwt' }, claims())]);
  entries.push(['crit header', () => hs({ ...H, crit: ['exp'] }, claims())]);
  entries.push(['crit header b64=false', () => hs({ ...H, b64: false, crit: ['b64'] }, claims())]);
  for (const claim of ['exp', 'iss', 'aud', 'sub', 'room']) entries.push([`${claim} missing`, () => hs(H, { ...claims(), [claim]: undefined })]);
  entries.push(['room *', () => hs(H, { ...claims(), room: '*' })]);
  entries.push(['sub *', () => hs(H, { ...claims(), sub: '*' })]);
  entries.push(['context.room.regex', () => hs(H, { ...claims(), room: '.*', context: { room: { regex: true } } })]);
  entries.push(['expired a second ago', () => hs(H, { ...claims(), exp: now() - 1 })]);
  entries.push(['expires now', () => hs(H, { ...claims(), exp: now() })]);
  entries.push(['nbf a minute ahead', () => hs(H, { ...claims(), nbf: now() + 60 })]);
  entries.push(['exp as a string', () => hs(H, { ...claims(), exp: String(now() + 3600) })]);
  entries.push(['nbf as a string', () => hs(H, { ...claims(), nbf: String(now() - 30) })]);
  entries.push(['exp in milliseconds', () => hs(H, { ...claims(), exp: (now() + 3600) * 1000 })]);
  entries.push(['wrong iss', () => hs(H, { ...claims(), iss: 'other-app' })]);
  entries.push(['iss in another case', () => hs(H, { ...claims(), iss: 'TEST-APP' })]);
  entries.push(['wrong aud', () => hs(H, { ...claims(), aud: 'other' })]);
  entries.push(['wrong sub', () => hs(H, { ...claims(), sub: 'other.example' })]);
  entries.push(['lifetime above the maximum', () => hs(H, { ...claims(), exp: now() + 2 * 86_400 })]);
  entries.push(['no nbf or iat, exp far ahead', () => hs(H, { ...claims(), nbf: undefined, iat: undefined, exp: now() + 30 * 86_400 })]);
  entries.push(['signed with another secret', () => hs(H, claims(), 'another-secret-another-secret-another-secret')]);
  entries.push(['signed with an empty secret', () => hs(H, claims(), '')]);
  entries.push([
    'payload not JSON',
    () =>
      `${b64url(H)}.${b64url('not json')}.${createHmac('sha256', TEST_APP_SECRET)
        .update(`${b64url(H)}.${b64url('not json')}`)
        .digest('base64url')}`,
  ]);
  entries.push(['payload a JSON array', () => hs(H, [claims()])]);
  return entries;
}

describe('forged-token catalogue against validate-token', () => {
  it('knows the genuine token is valid (so a refusal below is not a broken server)', async () => {
    expect((await post(`${server.url}/api/jitsi/validate-token`, { token: genuine })).body.valid).toBe(true);
  });

  it('refuses every forged token (0 accepted), without echoing what it claims', async () => {
    const entries = catalogue();
    expect(entries.length).toBeGreaterThanOrEqual(60);
    for (const [name, forge] of entries) {
      const response = await post(`${server.url}/api/jitsi/validate-token`, { token: forge() });
      results.push({ name, valid: response.body?.valid === true });
      expect(response.status, name).toBe(200);
      expect(response.body, name).toEqual({ valid: false, reason: expect.any(String) });
      expect(response.text).not.toContain('Mallory');
    }
    expect(results.filter((result) => result.valid)).toEqual([]);
  });
});
