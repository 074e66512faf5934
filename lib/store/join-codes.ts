// Join links: a code is stored only as its SHA-256. Using one is claimed for one request (a hash
// of the code and what was asked with it): that request, retried after a failure, may finish
// the exchange; any other finds the code taken. Of many parallel exchanges one claim wins.
//
//   JOIN#<sha256 of code> / JOIN   { appointmentId, expiresAt, usedBy?, usedAt? }
import { fieldsOf, type Item, type Table } from './table.ts';

export interface JoinCode {
  appointmentId: string;
  /** Seconds since the epoch. */
  expiresAt: number;
  /** The request that claimed it. */
  usedBy?: string | undefined;
}

export interface JoinCodes {
  /** Stores a code by its hash (again, harmlessly, on a retry). */
  add(codeHash: string, code: JoinCode): Promise<boolean>;
  /** Claims an unexpired code for one request; the same request may claim it again. Undefined when it cannot. */
  claim(codeHash: string, requestKey: string, nowSeconds: number): Promise<JoinCode | undefined>;
  get(codeHash: string): Promise<JoinCode | undefined>;
}

const joinKey = (codeHash: string) => ({ pk: `JOIN#${codeHash}`, sk: 'JOIN' });

function codeFrom(item: Item): JoinCode {
  const fields = fieldsOf(item);
  return { appointmentId: fields.text('appointmentId'), expiresAt: fields.number('expiresAt'), usedBy: fields.optionalText('usedBy') };
}

export function openJoinCodes(table: Table): JoinCodes {
  return {
    add: (codeHash, code) =>
      table.put({ ...joinKey(codeHash), appointmentId: code.appointmentId, expiresAt: code.expiresAt }, 'attribute_not_exists(pk) OR appointmentId = :id', {
        ':id': code.appointmentId,
      }),
    async claim(codeHash, requestKey, nowSeconds) {
      const item = await table.update(joinKey(codeHash), {
        set: 'SET usedBy = :key, usedAt = if_not_exists(usedAt, :now)',
        condition: 'attribute_exists(pk) AND expiresAt > :now AND (attribute_not_exists(usedBy) OR usedBy = :key)',
        values: { ':key': requestKey, ':now': nowSeconds },
      });
      return item === undefined ? undefined : codeFrom(item);
    },
    async get(codeHash) {
      const item = await table.get(joinKey(codeHash));
      return item === undefined ? undefined : codeFrom(item);
    },
  };
}
