// Ad-hoc rooms Prosody opened through the reservation API (an appointment's open room lives in
// its history instead). Nothing of the creator is kept: Prosody's `mail_owner` is an address,
// so only its domain is stored, for the answer Prosody needs when it asks about the room again.
//
//   CONF#<conference id> / CONF   { id, name, room, ownerDomain, openedAt, endsAt }
import { fieldsOf, type Item, type Table } from './table.ts';

export interface AdhocConference {
  id: string;
  /** The room name as Prosody sent it (`[tenant]room` for tenants). */
  name: string;
  room: string;
  /** The domain of the creator's address (an XMPP domain, never a person's). */
  ownerDomain: string;
  /** Seconds since the epoch. */
  openedAt: number;
  endsAt: number;
}

export interface AdhocConferences {
  /** Records an opened room; false when one with that id is open already. */
  open(conference: AdhocConference): Promise<boolean>;
  get(id: string): Promise<AdhocConference | undefined>;
  /** Closes an open room and returns it (also to a retry within `retrySeconds`); undefined when there was none. */
  close(id: string, nowSeconds: number, retrySeconds: number): Promise<AdhocConference | undefined>;
}

const conferenceKey = (id: string) => ({ pk: `CONF#${id}`, sk: 'CONF' });

function conferenceFrom(item: Item | undefined): AdhocConference | undefined {
  if (item === undefined) return undefined;
  const fields = fieldsOf(item);
  return {
    id: fields.text('id'),
    name: fields.text('name'),
    room: fields.text('room'),
    ownerDomain: fields.text('ownerDomain'),
    openedAt: fields.number('openedAt'),
    endsAt: fields.number('endsAt'),
  };
}

export function openAdhocConferences(table: Table): AdhocConferences {
  return {
    open: (conference) =>
      table.put(
        { ...conferenceKey(conference.id), ...conference, expiresAt: conference.endsAt + 3_600 },
        'attribute_not_exists(pk) OR attribute_exists(closedAt)',
      ),
    async get(id) {
      const item = await table.get(conferenceKey(id));
      return item === undefined || item.closedAt !== undefined ? undefined : conferenceFrom(item);
    },
    async close(id, nowSeconds, retrySeconds) {
      const item = await table.update(conferenceKey(id), {
        set: 'SET closedAt = if_not_exists(closedAt, :now)',
        condition: 'attribute_exists(pk) AND (attribute_not_exists(closedAt) OR closedAt > :retryFrom)',
        values: { ':now': nowSeconds, ':retryFrom': nowSeconds - retrySeconds },
      });
      return conferenceFrom(item);
    },
  };
}
