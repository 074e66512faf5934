// Room pointers: from an appointment room's name to its appointment. Written before the
// appointment's first event and never changed, so a lookup can be cached for the process's
// life. A pointer whose appointment names another room (left by a creation that failed and was
// not retried with the same request) leads nowhere: decisions always check the appointment's room.
//
//   ROOM#<room> / ROOM   { appointmentId }
import { storeUnavailable } from '../errors.ts';
import type { Table } from './table.ts';

export interface RoomPointers {
  /** Points the room at the appointment (again, harmlessly, on a retry); false if another appointment holds it. */
  point(room: string, appointmentId: string, expiresAt: number): Promise<boolean>;
  /** The appointment id a room belongs to, if any. */
  lookup(room: string): Promise<string | undefined>;
}

const roomKey = (room: string) => ({ pk: `ROOM#${room}`, sk: 'ROOM' });

export function openRoomPointers(table: Table): RoomPointers {
  const cache = new Map<string, string>();
  return {
    point(room, appointmentId, expiresAt) {
      return table.put({ ...roomKey(room), appointmentId, expiresAt }, 'attribute_not_exists(pk) OR appointmentId = :id', { ':id': appointmentId });
    },
    async lookup(room) {
      const cached = cache.get(room);
      if (cached !== undefined) return cached;
      const pointer = await table.get(roomKey(room));
      if (pointer === undefined) return undefined;
      if (typeof pointer.appointmentId !== 'string') throw storeUnavailable();
      cache.set(room, pointer.appointmentId);
      return pointer.appointmentId;
    },
  };
}
