// What the real web app's jitsi module sends (the original guide's request shapes, as its screens
// fill them), over real HTTP against the local server with no settings: every request the caller
// is entitled to gets its token, and the answers say what the client needs to act on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../infra/local/server.ts';
import { ROUTES } from '../../lib/routes.ts';
import { decodeJwt } from '../helpers/jwt.ts';
import { post, startServer } from '../helpers/local-server.ts';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

const generate = (body: Record<string, unknown>) => post(`${server.url}${ROUTES.generateToken.path}`, body);
const createRoom = (body: Record<string, unknown>) => post(`${server.url}${ROUTES.createRoom.path}`, body);
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

describe("the web app's own request shapes", () => {
  it('gives an ad-hoc token for a mixed-case room with the optionals null or empty, as the module sends them', async () => {
    const answer = await generate({
      roomName: 'Ataraxia-12345-1699999999999',
      userName: 'Dr. Sarah Johnson',
      userEmail: null,
      userId: '',
      isModerator: false,
      appointmentId: null,
      expiresIn: null,
    });
    expect(answer.status).toBe(200);
    expect(answer.body.roomName).toBe('ataraxia-12345-1699999999999');
    expect(decodeJwt(answer.body.token).payload.room).toBe('ataraxia-12345-1699999999999');
    expect(answer.body.notBefore).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('accepts the ids identity providers issue: Firebase push ids starting with -, numeric ids, Auth0 and email ids', async () => {
    const ids = ['-NxY7abcDEF_12', '_internal-7', '123456789', 'auth0|5f7c8ec7c33c6c004bbafe82', 'google-oauth2|1029384756', 'person@example.com'];
    for (const [index, therapistId] of ids.entries()) {
      const clientId = `-Client${index}`;
      const created = await createRoom({ appointmentId: `-Appt${index}`, therapistId, clientId, scheduledStartTime: inDays(0.01) });
      expect(created.status, therapistId).toBe(200);
      const clientToken = await generate({ appointmentId: `-Appt${index}`, userId: clientId, userName: 'Client' });
      expect(clientToken.status, clientId).toBe(200);
    }
    // Still refused as a first character: what a spreadsheet reads as a formula.
    for (const id of ['=cmd', '+1', '@sum']) expect((await generate({ roomName: 'room-1', userName: 'x', userId: id })).body.field, id).toBe('userId');
  });

  it("treats isModerator:false from the therapist as no preference (the appointment's role decides); true from the client stays 403", async () => {
    await createRoom({ appointmentId: 'shape-1', therapistId: 'th-1', clientId: 'cl-1', scheduledStartTime: inDays(0.01) });
    const therapist = await generate({ appointmentId: 'shape-1', userId: 'th-1', userName: 'Therapist', isModerator: false });
    expect(therapist.status).toBe(200);
    expect(therapist.body.moderator).toBe(true);
    const client = await generate({ appointmentId: 'shape-1', userId: 'cl-1', userName: 'Client', isModerator: true });
    expect(client.status).toBe(403);
    expect(client.body.field).toBe('isModerator');
  });

  it('says from when an early appointment token is valid, and which room it is for when another was named', async () => {
    const created = await createRoom({ appointmentId: 'shape-2', therapistId: 'th-2', clientId: 'cl-2', scheduledStartTime: inDays(3) });
    expect(created.status).toBe(200);
    const answer = await generate({ appointmentId: 'shape-2', userId: 'cl-2', userName: 'Client', roomName: 'ataraxia-shape-2-1699999999999' });
    expect(answer.status).toBe(200);
    expect(answer.body.roomName).toBe(created.body.roomName);
    expect(answer.body.requestedRoomName).toBe('ataraxia-shape-2-1699999999999');
    expect(Date.parse(answer.body.notBefore)).toBeGreaterThan(Date.now() + 2 * 86_400_000);
    expect(answer.body.notBefore).toBe(new Date(decodeJwt(answer.body.token).payload.nbf * 1000).toISOString());
    // Naming the appointment's own room says nothing more.
    const same = await generate({ appointmentId: 'shape-2', userId: 'cl-2', userName: 'Client', roomName: created.body.roomName });
    expect(same.body.requestedRoomName).toBeUndefined();
  });

  it('refuses an appointment whose therapist is its client', async () => {
    const answer = await createRoom({ appointmentId: 'shape-3', therapistId: 'same-person', clientId: 'same-person', scheduledStartTime: inDays(0.01) });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ type: 'urn:jitsi-token-api:problem:invalid-field', field: 'clientId' });
  });
});
