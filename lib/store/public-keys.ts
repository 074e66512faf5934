// The published RS256 public keys, one item per key file Prosody asks for, written by the
// functions that sign (lib/public-keys.ts has the rules) and read by the public-keys function,
// whose grant reaches this partition only (IAM dynamodb:LeadingKeys).
//
//   KEYS / <hex sha256 of kid>.pem   { kid, pem, servedUntil }
import type { PublishedKey } from '../public-keys.ts';
import { fieldsOf, type Table } from './table.ts';

/** The partition the public keys live in: the only one the public-keys function may read. */
export const PUBLIC_KEYS_PARTITION = 'KEYS';

export interface PublicKeyRecords {
  /** The key published as `fileName`, if any (served or not). */
  read(fileName: string): Promise<PublishedKey | undefined>;
  /**
   * Makes the key served at least until `key.servedUntil` (never shortens it). Throws
   * KidInUseError for a kid already published with another key: Prosody keeps a fetched key for
   * good, so tokens signed with the new one would never verify.
   */
  publish(fileName: string, key: PublishedKey): Promise<void>;
}

export class KidInUseError extends Error {
  override name = 'KidInUseError';
  constructor(readonly kid: string) {
    super(`the RS256 kid ${kid} is already published with another key`);
  }
}

const keyOf = (fileName: string) => ({ pk: PUBLIC_KEYS_PARTITION, sk: fileName });

export function openPublicKeyRecords(table: Table): PublicKeyRecords {
  async function read(fileName: string): Promise<PublishedKey | undefined> {
    const item = await table.get(keyOf(fileName));
    if (item === undefined) return undefined;
    const fields = fieldsOf(item);
    return { kid: fields.text('kid'), pem: fields.text('pem'), servedUntil: fields.number('servedUntil') };
  }
  return {
    read,
    async publish(fileName, key) {
      const written = await table.update(keyOf(fileName), {
        set: 'SET kid = :kid, pem = :pem, servedUntil = :until',
        condition: '(attribute_not_exists(pem) OR pem = :pem) AND (attribute_not_exists(servedUntil) OR servedUntil < :until)',
        values: { ':kid': key.kid, ':pem': key.pem, ':until': key.servedUntil },
      });
      if (written !== undefined) return;
      // The condition failed: another signer already served it longer (fine), or the kid names another key.
      const stored = await read(fileName);
      if (stored !== undefined && stored.pem !== key.pem) throw new KidInUseError(key.kid);
    },
  };
}
