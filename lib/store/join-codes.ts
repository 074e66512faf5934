// Join links: a code is stored only as its SHA-256. Using one is claimed for one request (a hash
// of the code and what was asked with it): that request, retried within the retry window after
// a failure, may finish the exchange; any other request, or the same one later, finds it used.
// Of many parallel exchanges one claim wins.
//
//   JOIN#<sha256 of code> / JOIN   { appointmentId, expiresAt, usedBy?, usedAt? }
import { fieldsOf, type Item, type Table } from './table.ts';

export interface JoinCode {
  appointmentId: string;
  /** Seconds since the epoch. */
  expiresAt: number;
  /** The request that claimed it, and when. */
  usedBy?: string | undefined;
  usedAt?: number | undefined;
}

export interface JoinCodes {
  /** Stores a code by its hash; a retry stores nothing new and never clears a claim. False if the hash names another appointment. */
  add(codeHash: string, code: JoinCode): Promise<boolean>;
  /**
   * Claims an unexpired code for one request. The same request may claim it again while its
   * first claim is younger than `retrySeconds` (a retry after a lost answer); undefined when it cannot.
   */
  claim(codeHash: string, requestKey: string, nowSeconds: number, retrySeconds: number): Promise<JoinCode | undefined>;
  get(codeHash: string): Promise<JoinCode | undefined>;
}

const joinKey = (codeHash: string) => ({ pk: `JOIN#${codeHash}`, sk: 'JOIN' });

function codeFrom(item: Item): JoinCode {
  const fields = fieldsOf(item);
  return {
    appointmentId: fields.text('appointmentId'),
    expiresAt: fields.number('expiresAt'),
    usedBy: fields.optionalText('usedBy'),
    usedAt: fields.optionalNumber('usedAt'),
  };
}

export function openJoinCodes(table: Table): JoinCodes {
  return {
    async add(codeHash, code) {
      // Sets only what is missing: a retry never clears a claim already made.
      const item = await table.update(joinKey(codeHash), {
        set: 'SET appointmentId = if_not_exists(appointmentId, :id), expiresAt = if_not_exists(expiresAt, :expiresAt)',
        condition: 'attribute_not_exists(pk) OR appointmentId = :id',
        values: { ':id': code.appointmentId, ':expiresAt': code.expiresAt },
      });
      return item !== undefined;
    },
    async claim(codeHash, requestKey, nowSeconds, retrySeconds) {
      const item = await table.update(joinKey(codeHash), {
        set: 'SET usedBy = :key, usedAt = if_not_exists(usedAt, :now)',
        condition: 'attribute_exists(pk) AND expiresAt > :now AND (attribute_not_exists(usedBy) OR (usedBy = :key AND usedAt > :retryFrom))',
        values: { ':key': requestKey, ':now': nowSeconds, ':retryFrom': nowSeconds - retrySeconds },
      });
      return item === undefined ? undefined : codeFrom(item);
    },
    async get(codeHash) {
      const item = await table.get(joinKey(codeHash));
      return item === undefined ? undefined : codeFrom(item);
    },
  };
}
