// The responsive deadline (lib/deadline.ts) against a plain timer, with a real socket: an answer
// that arrived while the process had no CPU (Lambda's throttle, here a busy loop) is read, not
// abandoned; a call that hangs on an idle process still ends.
import { request } from 'node:http';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDeadline } from '../../lib/deadline.ts';

type Deadline = (ms: number, onExpired: () => void) => () => void;
const plainTimer: Deadline = (ms, onExpired) => {
  const timer = setTimeout(onExpired, ms);
  return () => clearTimeout(timer);
};

// The server runs on a thread of its own, so it answers while this thread is starved.
let worker: Worker;
let port: number;
beforeAll(async () => {
  worker = new Worker(
    `const { createServer } = require('node:http');
     const { parentPort } = require('node:worker_threads');
     const server = createServer((req, res) => { if (req.url === '/hang') return; res.end('ok'); });
     server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));`,
    { eval: true },
  );
  port = await new Promise((resolvePromise) => worker.once('message', resolvePromise));
});
afterAll(() => worker.terminate());

/** A GET under a 100 ms deadline; with `starveMs`, the thread gets no CPU for that long once the request is sent. */
function call(deadline: Deadline, path: string, starveMs: number): Promise<'answered' | 'expired'> {
  return new Promise((resolvePromise) => {
    let stop = () => {};
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => {
        stop();
        resolvePromise('answered');
      });
    });
    req.on('error', () => undefined);
    req.on('finish', () => {
      stop = deadline(100, () => {
        req.destroy();
        resolvePromise('expired');
      });
      const until = performance.now() + starveMs;
      while (performance.now() < until) {
        // starved: the answer arrives meanwhile, unread
      }
    });
    req.end();
  });
}

describe('a deadline on a network call', () => {
  it('reads an answer that arrived while the process was starved, where a plain timer gives it up', async () => {
    expect(await call(plainTimer, '/', 400)).toBe('expired');
    expect(await call(startDeadline, '/', 400)).toBe('answered');
  });

  it('still ends a call that hangs on an idle process', async () => {
    expect(await call(startDeadline, '/hang', 0)).toBe('expired');
  });
});
