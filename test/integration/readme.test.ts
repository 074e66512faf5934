// The README's curl examples, run as written (bash + curl + node) against the real local server;
// only the host:port is swapped for the test server's ephemeral one.
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../infra/local/server.ts';
import { startServer } from '../helpers/local-server.ts';
import { testTempDir } from '../helpers/temp.ts';

const run = promisify(execFile);
const examples = [...readFileSync('README.md', 'utf8').matchAll(/```bash\n([\s\S]*?)```/g)]
  .map((match) => match[1]!)
  .filter((block) => block.includes('http://localhost:3001/api/'));

let server: RunningServer;
// As after npm start in a fresh checkout: the reservation key is generated into the working folder.
const workDir = testTempDir('readme-');
beforeAll(async () => {
  server = await startServer(
    { JITSI_DOMAIN: 'meet.example.com', JITSI_APP_ID: 'local-dev-app', RESERVATIONS_API_KEY: undefined, EVENTS_API_KEY: undefined },
    undefined,
    workDir,
  );
  // npm start writes Prosody's key files at start-up; this server writes them on their first use.
  await fetch(`${server.url}/api/jitsi/reservations/conference/warm-up`, { method: 'DELETE' });
  await fetch(`${server.url}/api/jitsi/events/room/created`, { method: 'POST' });
});
afterAll(async () => {
  await server.close();
  rmSync(workDir, { recursive: true, force: true });
});

describe('README examples', () => {
  it('has a curl example for each endpoint', () => {
    for (const path of ['generate-token', 'create-room', 'validate-token', 'appointments/appt-456']) {
      expect(examples.some((block) => block.includes(`/api/jitsi/${path}`))).toBe(true);
    }
  });

  // In README order, against one server: the appointment examples continue the one create-room booked.
  it.each(examples.map((block) => [block.match(/(-X [A-Z]+ )?'?http:\/\/localhost:3001\/api\/jitsi\/[a-z0-9/-]+/g)!.at(-1)!, block]))(
    '%s works as written',
    async (path, block) => {
      const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', block.replaceAll('http://localhost:3001', server.url)], { cwd: workDir });
      const body = JSON.parse(stdout);
      if (path.endsWith('validate-token')) expect(body).toMatchObject({ valid: true, room: 'test-room-123' });
      else if (path.endsWith('create-room')) expect(body).toMatchObject({ therapistToken: expect.any(String), clientToken: expect.any(String) });
      else if (path.endsWith('/reservations/conference')) expect(body).toMatchObject({ id: 'team-standup', name: 'team-standup', duration: 720 * 60 });
      else if (path.endsWith('/join-links/exchange'))
        expect(body).toMatchObject({ moderator: false, jitsiUrl: expect.stringMatching(/^https:\/\/meet\.example\.com\/appt-[a-z2-7]{26}#jwt=eyJ/) });
      else if (path.endsWith('/audit')) expect(body.records.map((record: { action: string }) => record.action)).toContain('moved');
      else if (path.endsWith('/attendance'))
        expect(body).toMatchObject({ appointmentId: 'appt-900', status: 'in-progress', client: { joined: true, present: true } });
      else if (path.startsWith('-X DELETE')) expect(body).toMatchObject({ appointmentId: 'appt-456', status: 'cancelled' });
      else if (path.startsWith('-X PATCH')) expect(body).toMatchObject({ appointmentId: 'appt-456', status: 'scheduled', durationMinutes: 50 });
      else if (path.includes('/appointments/')) expect(body).toMatchObject({ appointmentId: 'appt-456', status: 'scheduled', role: 'client' });
      else if (block.includes('appointmentId'))
        expect(body).toMatchObject({ token: expect.any(String), moderator: false, roomName: expect.stringMatching(/^appt-/) });
      else expect(body).toMatchObject({ token: expect.any(String), joinUrl: 'https://meet.example.com/test-room-123' });
    },
  );
});
