// The audit trail cannot be flooded or truncated: a stranger's refusals are counted into one
// record per reason and day instead of burying the members' records; the trail pages newest
// first with a cursor and drops nothing. Over real HTTP against the embedded store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../infra/local/server.ts';
import { ROUTES } from '../../lib/routes.ts';
import { post, startServer } from '../helpers/local-server.ts';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

interface TrailRecord {
  at: string;
  action: string;
  actor: string;
  note?: string;
  count?: number;
  tokenHash?: string;
  lastAt?: string;
}

let ids = 0;
const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
async function book(): Promise<string> {
  const appointmentId = `trail-${++ids}`;
  const created = await post(`${server.url}${ROUTES.createRoom.path}`, {
    appointmentId,
    therapistId: 'dr-t',
    clientId: 'cl-t',
    scheduledStartTime: inMinutes(5),
    durationMinutes: 50,
  });
  expect(created.status).toBe(200);
  return appointmentId;
}
const url = (id: string, asker: string, rest = '') => `${server.url}/api/jitsi/appointments/${id}${rest}?userId=${asker}`;
async function trailPage(
  id: string,
  cursor?: string,
): Promise<{ status: number; body: { records: TrailRecord[]; next?: string; type?: string; field?: string } }> {
  const response = await fetch(`${url(id, 'dr-t', '/audit')}${cursor === undefined ? '' : `&cursor=${cursor}`}`);
  return { status: response.status, body: (await response.json()) as { records: TrailRecord[]; next?: string; type?: string; field?: string } };
}

/** The stranger's refused requests, one per route that touches an appointment, in turn. */
const STRANGER_REQUESTS: Array<(id: string) => Promise<number>> = [
  async (id) => (await fetch(url(id, 'stranger'))).status,
  async (id) => (await post(`${server.url}${ROUTES.generateToken.path}`, { appointmentId: id, userId: 'stranger', userName: 'S' })).status,
  async (id) =>
    (
      await fetch(url(id, 'stranger'), {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ scheduledStartTime: inMinutes(60) }),
      })
    ).status,
  async (id) => (await fetch(url(id, 'stranger'), { method: 'DELETE' })).status,
  async (id) => (await fetch(url(id, 'stranger', '/audit'))).status,
  async (id) => (await post(url(id, 'stranger', '/join-links'), '')).status,
  async (id) =>
    (await post(`${server.url}${ROUTES.createRoom.path}`, { appointmentId: id, therapistId: 'stranger', clientId: 'cl-t', scheduledStartTime: inMinutes(5) }))
      .status,
];

describe('a trail nobody can flood', () => {
  it("counts 1,010 refusals from a stranger into a few records, and the client's token issued right after is on the first page", async () => {
    const id = await book();
    const FLOOD = 1_010;
    const statuses: number[] = [];
    for (let sent = 0; sent < FLOOD; sent += 10) {
      statuses.push(...(await Promise.all(Array.from({ length: 10 }, (_, index) => STRANGER_REQUESTS[(sent + index) % STRANGER_REQUESTS.length]!(id)))));
    }
    expect(new Set(statuses)).toEqual(new Set([403]));
    const issued = await post(`${server.url}${ROUTES.generateToken.path}`, { appointmentId: id, userId: 'cl-t', userName: 'Client' });
    expect(issued.status).toBe(200);

    const { status, body } = await trailPage(id);
    expect(status).toBe(200);
    expect(body.next).toBeUndefined();
    // The client's token is there, newest of the members' records.
    expect(body.records.find((record) => record.action !== 'refused')).toMatchObject({ action: 'token-issued', actor: 'cl-t' });
    // Every refusal counted exactly once, in a handful of records (one per reason and day).
    const strangers = body.records.filter((record) => record.actor === 'stranger');
    expect(strangers.every((record) => record.action === 'refused')).toBe(true);
    expect(strangers.length).toBeLessThanOrEqual(3);
    expect(strangers.reduce((sum, record) => sum + record.count!, 0)).toBe(FLOOD);
    expect(body.records).toHaveLength(4 + strangers.length);
  });

  it('counts strangers who invent a new id for each request (no caller authentication) into one record per reason', async () => {
    const id = await book();
    for (let index = 0; index < 60; index += 1) expect((await fetch(url(id, `invented-${index}`))).status).toBe(403);
    for (let index = 0; index < 20; index += 1) {
      const answer = await post(`${server.url}${ROUTES.generateToken.path}`, { appointmentId: id, userName: 'Nobody' });
      expect(answer.status).toBe(403);
    }
    const refused = (await trailPage(id)).body.records.filter((record) => record.action === 'refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ note: 'not_a_member', count: 80 });
  });

  it('leaves nothing for an unknown id: the refusal names no appointment', async () => {
    expect((await fetch(url('never-booked', 'stranger'))).status).toBe(403);
    const booked = await post(`${server.url}${ROUTES.createRoom.path}`, {
      appointmentId: 'never-booked',
      therapistId: 'dr-t',
      clientId: 'cl-t',
      scheduledStartTime: inMinutes(5),
    });
    expect(booked.status).toBe(200);
    expect((await trailPage('never-booked')).body.records.map((record) => record.action)).toEqual(['token-issued', 'token-issued', 'created']);
  });

  it('counts a join link used twice on its appointment, once per reason and day', async () => {
    const id = await book();
    const { code } = (await post(url(id, 'dr-t', '/join-links'), '')).body;
    expect((await post(`${server.url}${ROUTES.exchangeJoinLink.path}`, { code, userName: 'Client' })).status).toBe(200);
    for (const name of ['Eve', 'Mallory']) expect((await post(`${server.url}${ROUTES.exchangeJoinLink.path}`, { code, userName: name })).status).toBe(404);
    const refused = (await trailPage(id)).body.records.filter((record) => record.action === 'refused');
    expect(refused).toEqual([expect.objectContaining({ actor: 'anonymous', note: 'join_link_used_or_expired', count: 2 })]);
  });
});

describe('the trail in pages', () => {
  it('pages newest first with a cursor, every record exactly once', async () => {
    const id = await book();
    // 250 tokens (distinct requests: each asks another lifetime), five at a time, and a refusal.
    for (let batch = 0; batch < 250; batch += 5) {
      await Promise.all(
        Array.from({ length: 5 }, async (_, index) => {
          const answer = await post(`${server.url}${ROUTES.generateToken.path}`, {
            appointmentId: id,
            userId: 'cl-t',
            userName: 'Client',
            expiresIn: 60 + batch + index,
          });
          expect(answer.status).toBe(200);
        }),
      );
    }
    await fetch(url(id, 'stranger'));
    const seen: TrailRecord[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await trailPage(id, cursor);
      expect(page.status).toBe(200);
      seen.push(...page.body.records);
      cursor = page.body.next;
      pages += 1;
    } while (cursor !== undefined && pages < 10);
    expect(pages).toBe(3);
    // Newest first; a refusal record stands at the start of its hour (its first refusal's hour).
    const hourOf = (ms: number) => ms - (ms % 3_600_000);
    const times = seen.map((record) => (record.action === 'refused' ? hourOf(Date.parse(record.at)) : Date.parse(record.at)));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(seen.filter((record) => record.action === 'token-issued')).toHaveLength(252);
    expect(new Set(seen.filter((record) => record.tokenHash).map((record) => record.tokenHash)).size).toBe(252);
    expect(seen.filter((record) => record.action === 'created')).toHaveLength(1);
    expect(seen.filter((record) => record.action !== 'refused').at(-1)?.action).toBe('created');
    expect(seen.filter((record) => record.action === 'refused')).toHaveLength(1);
  });

  it('refuses a cursor it did not give out (400, the field named)', async () => {
    const id = await book();
    for (const cursor of ['not-a-cursor', Buffer.from(JSON.stringify({ events: { pk: 'APPT#other', sk: 'E#1' }, refusals: null })).toString('base64url')]) {
      const page = await trailPage(id, cursor);
      expect(page.status).toBe(400);
      expect(page.body).toMatchObject({ type: 'urn:jitsi-token-api:problem:invalid-field', field: 'cursor' });
    }
  });
});
