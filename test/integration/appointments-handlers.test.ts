// The appointment rules through the handlers themselves, against the embedded store through the
// real SDK, with AUTH_MODE=none: the body's ids stand in for the caller and the same membership
// rules apply to them.
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../lib/routes.ts';
import { apiEvent, json, lambdaContext, loadHandlers } from '../helpers/handlers.ts';
import { decodeJwt } from '../helpers/jwt.ts';

let handlers: Awaited<ReturnType<typeof loadHandlers>>;
const start = () => new Date(Date.now() + 10 * 60_000).toISOString();
const resourceEvent = (method: string, appointmentId: string, query: Record<string, string>, body?: unknown) => {
  const event = apiEvent(`/api/jitsi/appointments/${appointmentId}`, body, { method, ...(body ? {} : { rawBody: '' }) });
  event.pathParameters = { appointmentId };
  event.queryStringParameters = query;
  if (!body) delete event.headers['content-type'];
  return event;
};

beforeAll(async () => {
  handlers = await loadHandlers({ AUTH_MODE: 'none' });
  const created = await handlers.createRoom(
    apiEvent(ROUTES.createRoom.path, { appointmentId: 'appt-none-1', therapistId: 'dr-1', clientId: 'cl-1', scheduledStartTime: start() }),
    lambdaContext(),
  );
  expect(created.statusCode).toBe(200);
});

describe('AUTH_MODE=none: the body ids stand in for the caller', () => {
  it('gives the client a participant token and refuses a userId that is not a party (or none at all)', async () => {
    const client = await handlers.generateToken(
      apiEvent(ROUTES.generateToken.path, { appointmentId: 'appt-none-1', userId: 'cl-1', userName: 'Client One' }),
      lambdaContext(),
    );
    expect(client.statusCode).toBe(200);
    expect(decodeJwt(json(client).token).payload).toMatchObject({ moderator: false, context: { user: { id: 'cl-1' } } });
    for (const body of [
      { appointmentId: 'appt-none-1', userId: 'intruder', userName: 'Intruder' },
      { appointmentId: 'appt-none-1', userName: 'No Id' },
      { roomName: json(client).roomName, userId: 'intruder', userName: 'Intruder', isModerator: true },
    ]) {
      expect((await handlers.generateToken(apiEvent(ROUTES.generateToken.path, body), lambdaContext())).statusCode).toBe(403);
    }
  });

  it('lets another therapist id neither re-register nor read the appointment', async () => {
    const other = await handlers.createRoom(
      apiEvent(ROUTES.createRoom.path, { appointmentId: 'appt-none-1', therapistId: 'dr-2', clientId: 'cl-1', scheduledStartTime: start() }),
      lambdaContext(),
    );
    expect(other.statusCode).toBe(403);
    expect((await handlers.getAppointment(resourceEvent('GET', 'appt-none-1', { userId: 'dr-2' }), lambdaContext())).statusCode).toBe(403);
    expect((await handlers.getAppointment(resourceEvent('GET', 'appt-none-1', { userId: 'dr-1' }), lambdaContext())).statusCode).toBe(200);
  });

  it('needs the asking userId on the appointment resource, and refuses unknown query parameters', async () => {
    const missing = await handlers.getAppointment(resourceEvent('GET', 'appt-none-1', {}), lambdaContext());
    expect(missing.statusCode).toBe(400);
    expect(json(missing).field).toBe('userId');
    const unknown = await handlers.getAppointment(resourceEvent('GET', 'appt-none-1', { userId: 'dr-1', debug: '1' }), lambdaContext());
    expect(unknown.statusCode).toBe(400);
  });

  it('still serves an unregistered appointmentId as before (an ad-hoc room), as the seed web app sends it', async () => {
    const seed = await handlers.generateToken(
      apiEvent(ROUTES.generateToken.path, {
        roomName: 'ataraxia-12345-1699999999999',
        appointmentId: 'appt-unregistered',
        userName: 'Dr. Sarah Johnson',
        userId: 'therapist-123',
        isModerator: true,
      }),
      lambdaContext(),
    );
    expect(seed.statusCode).toBe(200);
    expect(json(seed).roomName).toBe('ataraxia-12345-1699999999999');
  });
});
