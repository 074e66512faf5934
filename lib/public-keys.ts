// RS256 mode's public keys, as the functions that sign publish them for the one that serves them:
// the public-keys function never holds a private key. Each key is served while a token signed
// with it may still be valid: a signer confirms, before it signs, that its key is served at least
// the longest token lifetime ahead, and extends it by an hour when it is not. So a rollback, two
// rotations in a row or an environment still holding an old version cannot leave a token whose
// key Prosody cannot fetch, and a key nobody signs with any more stops being served on its own.
// Pure rules; the records are in lib/store/public-keys.ts.

export interface PublishedKey {
  kid: string;
  /** SPKI PEM. */
  pem: string;
  /** Served until then (seconds): past the expiry of every token signed with it so far. */
  servedUntil: number;
}

/** How far past the longest token a confirmation reaches, so a signer writes at most about once an hour. */
export const PUBLICATION_SLACK_SECONDS = 3_600;

/** When a key a signer is about to sign with must stay served until: the longest token it may sign, and the slack. */
export const servedUntilFor = (nowSeconds: number, maxTokenLifetimeSeconds: number): number => nowSeconds + maxTokenLifetimeSeconds + PUBLICATION_SLACK_SECONDS;

/** Whether a signer must confirm its key again before signing: a token signed now could outlive what is published. */
export const needsConfirming = (publishedUntil: number | undefined, nowSeconds: number, maxTokenLifetimeSeconds: number): boolean =>
  publishedUntil === undefined || publishedUntil < nowSeconds + maxTokenLifetimeSeconds;

/** The PEM served for a published key, while it is served. */
export const servedPem = (published: PublishedKey | undefined, nowSeconds: number): string | undefined =>
  published !== undefined && nowSeconds < published.servedUntil ? published.pem : undefined;
