// Independent JWT decoding for tests: base64url + JSON, no library and none of our own code.
export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, any>;
  signature: string;
}

export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error(`expected 3 parts, got ${parts.length}`);
  const [header, payload, signature] = parts as [string, string, string];
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')),
    signature,
  };
}

export function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/**
 * Every rule of docs/JITSI.md "Our rules" for a token we issued, checked on the decoded parts.
 * Returns the list of broken rules (empty when the token is good).
 */
export function jitsiRuleViolations(
  token: string,
  expected: { appId: string; audience: string; sub: string; maxLifetime: number },
  nowSeconds = Math.floor(Date.now() / 1000),
): string[] {
  const broken: string[] = [];
  const { header, payload } = decodeJwt(token);
  if (header.alg !== 'HS256') broken.push('alg');
  if (header.typ !== 'JWT') broken.push('typ');
  if (payload.iss !== expected.appId) broken.push('iss');
  if (payload.aud !== expected.audience) broken.push('aud');
  if (payload.sub !== expected.sub || payload.sub === '*') broken.push('sub');
  if (typeof payload.room !== 'string' || !/^[a-z0-9][a-z0-9_-]{0,127}$/.test(payload.room)) broken.push('room');
  for (const claim of ['iat', 'nbf', 'exp']) {
    if (!Number.isInteger(payload[claim])) broken.push(`${claim} not an integer`);
  }
  // Seconds, not milliseconds: a year 2286+ exp means milliseconds.
  if (payload.exp > 10_000_000_000) broken.push('exp in milliseconds');
  if (payload.nbf >= payload.exp) broken.push('nbf not before exp');
  if (payload.exp - payload.nbf > expected.maxLifetime + 30) broken.push('lifetime');
  if (payload.exp <= nowSeconds) broken.push('already expired');
  const user = payload.context?.user;
  if (typeof user?.id !== 'string' || typeof user?.name !== 'string') broken.push('context.user');
  if (typeof payload.moderator !== 'boolean') broken.push('moderator');
  if (user?.moderator !== String(payload.moderator)) broken.push('context.user.moderator');
  if (user?.affiliation !== (payload.moderator ? 'owner' : 'member')) broken.push('affiliation');
  const features = payload.context?.features;
  if (typeof features !== 'object' || features === null) broken.push('features');
  else for (const off of ['recording', 'livestreaming', 'transcription']) if (features[off] !== false) broken.push(`feature ${off}`);
  if (payload.context?.room?.regex !== undefined) broken.push('room regex');
  return broken;
}
