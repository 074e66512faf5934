// RS256 mode's public keys, as the function that signs publishes them for the one that serves
// them: the public-keys function never holds the private key. Pure rules; the record is in
// lib/store/public-keys.ts.
import { keyFileName } from './token.ts';

export interface PublishedKey {
  kid: string;
  /** SPKI PEM. */
  pem: string;
  /** When this key became current (Secrets Manager's creation time of its version), in seconds. */
  createdAt: number;
}

export interface PublishedKeys {
  current: PublishedKey;
  /** The key `current` replaced, served for the longest token lifetime after the replacement. */
  previous?: PublishedKey | undefined;
}

/**
 * What the record becomes when a signer has loaded `key`: undefined when there is nothing to
 * write (it is already current, or the record already names a newer key: an environment still
 * holding the old version must not take the new one back).
 */
export function afterPublishing(stored: PublishedKeys | undefined, key: PublishedKey): PublishedKeys | undefined {
  if (stored === undefined) return { current: key };
  const { current } = stored;
  if (current.kid === key.kid && current.pem === key.pem) return undefined;
  if (current.createdAt > key.createdAt) return undefined;
  return { current: key, previous: current.kid === key.kid ? stored.previous : current };
}

/**
 * The PEM served as `fileName` (`<hex sha256 of kid>.pem`): the current key, and the previous one
 * until the longest-lived token signed with it has expired.
 */
export function servedKeyFile(published: PublishedKeys | undefined, fileName: string, nowSeconds: number, maxTokenLifetimeSeconds: number): string | undefined {
  if (published === undefined) return undefined;
  const { current, previous } = published;
  if (keyFileName(current.kid) === fileName) return current.pem;
  if (previous !== undefined && keyFileName(previous.kid) === fileName && nowSeconds < current.createdAt + maxTokenLifetimeSeconds) return previous.pem;
  return undefined;
}
