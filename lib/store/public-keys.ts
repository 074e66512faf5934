// The published RS256 public keys: one item, written by the function that signs (after it loads
// a new key version, before it signs with it) and read by the public-keys function.
//
//   KEYS / PUBLISHED   { currentKid, currentPem, currentCreatedAt, previousKid?, previousPem?, previousCreatedAt? }
import { storeUnavailable } from '../errors.ts';
import { afterPublishing, type PublishedKey, type PublishedKeys } from '../public-keys.ts';
import type { Item, Table } from './table.ts';

export interface PublicKeyRecord {
  read(): Promise<PublishedKeys | undefined>;
  /** Makes `key` the current key, unless it already is or a newer one is; safe to call from many environments at once. */
  publish(key: PublishedKey): Promise<void>;
}

const KEY = { pk: 'KEYS', sk: 'PUBLISHED' } as const;
/** Concurrent publishers re-read and decide again; more than a few losses in a row means something else is wrong. */
const MAX_ATTEMPTS = 3;

function keyFrom(item: Item, prefix: 'current' | 'previous'): PublishedKey | undefined {
  const kid = item[`${prefix}Kid`];
  const pem = item[`${prefix}Pem`];
  const createdAt = item[`${prefix}CreatedAt`];
  if (kid === undefined && prefix === 'previous') return undefined;
  if (typeof kid !== 'string' || typeof pem !== 'string' || typeof createdAt !== 'number') throw storeUnavailable();
  return { kid, pem, createdAt };
}

const fields = (key: PublishedKey | undefined, prefix: 'current' | 'previous'): Item =>
  key === undefined ? {} : { [`${prefix}Kid`]: key.kid, [`${prefix}Pem`]: key.pem, [`${prefix}CreatedAt`]: key.createdAt };

export function openPublicKeyRecord(table: Table): PublicKeyRecord {
  async function read(): Promise<PublishedKeys | undefined> {
    const item = await table.get(KEY);
    return item === undefined ? undefined : { current: keyFrom(item, 'current')!, previous: keyFrom(item, 'previous') };
  }
  return {
    read,
    async publish(key) {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const stored = await read();
        const next = afterPublishing(stored, key);
        if (next === undefined) return;
        // Written only over the record it was decided from.
        const written =
          stored === undefined
            ? await table.put({ ...KEY, ...fields(next.current, 'current'), ...fields(next.previous, 'previous') }, 'attribute_not_exists(pk)')
            : await table.put(
                { ...KEY, ...fields(next.current, 'current'), ...fields(next.previous, 'previous') },
                'currentKid = :kid AND currentCreatedAt = :createdAt',
                { ':kid': stored.current.kid, ':createdAt': stored.current.createdAt },
              );
        if (written) return;
      }
      throw storeUnavailable();
    },
  };
}
