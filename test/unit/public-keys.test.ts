// The published RS256 keys' rules (lib/public-keys.ts): a signer confirms its key is served the
// longest token lifetime ahead before it signs, at most about once an hour, and a key is served
// only until then.
import { describe, expect, it } from 'vitest';
import { needsConfirming, PUBLICATION_SLACK_SECONDS, servedPem, servedUntilFor } from '../../lib/public-keys.ts';

const LIFETIME = 86_430;

describe('publishing a key before signing with it', () => {
  it('confirms a key nobody published, or one published for less than the longest token from now', () => {
    expect(needsConfirming(undefined, 1_000, LIFETIME)).toBe(true);
    expect(needsConfirming(1_000 + LIFETIME - 1, 1_000, LIFETIME)).toBe(true);
    expect(needsConfirming(1_000 + LIFETIME, 1_000, LIFETIME)).toBe(false);
  });

  it('confirms it an hour past the longest token, so the next confirmation is an hour away', () => {
    const until = servedUntilFor(1_000, LIFETIME);
    expect(until).toBe(1_000 + LIFETIME + PUBLICATION_SLACK_SECONDS);
    expect(needsConfirming(until, 1_000 + PUBLICATION_SLACK_SECONDS, LIFETIME)).toBe(false);
    expect(needsConfirming(until, 1_000 + PUBLICATION_SLACK_SECONDS + 1, LIFETIME)).toBe(true);
  });
});

describe('serving a key', () => {
  it('serves it until its time, and nothing unpublished', () => {
    const key = { kid: 'k', pem: 'pem-k', servedUntil: 2_000 };
    expect(servedPem(key, 1_999)).toBe('pem-k');
    expect(servedPem(key, 2_000)).toBeUndefined();
    expect(servedPem(undefined, 1_000)).toBeUndefined();
  });
});
