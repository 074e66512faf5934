// A loopback Lambda Runtime API (2018-06-01), the HTTP interface AWS's Runtime Interface Client
// polls for work: the test hands it one event at a time and gets back what the function answered.
// As in Lambda, a GET /next waits until there is an event, and the last one is never answered:
// the runtime polls forever, so the test stops it with a signal.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const PREFIX = '/2018-06-01/runtime';

/** What the runtime sent back for one event: its handler's result, or the error it reported. */
export interface Invocation {
  requestId: string;
  outcome: 'response' | 'error';
  body: any;
}

/** An error the runtime reported: a handler's (/invocation/{id}/error) or its start-up's (/init/error). */
export interface ReportedError {
  path: string;
  errorType: string | undefined;
  body: unknown;
}

export interface RuntimeApi {
  /** AWS_LAMBDA_RUNTIME_API: host and port, no scheme. An IP: the RIC's HTTP client does not look names up. */
  address: string;
  /** Hands the runtime one event, with the function's timeout as its deadline, and waits for its answer. */
  invoke(event: unknown, timeoutMs: number): Promise<Invocation>;
  /** Every error the runtime reported; empty for a run that went well. */
  reported: ReportedError[];
  /** Fails the invocation under way, and any later one: the runtime is gone (it exited). */
  abandon(reason: string): void;
  close(): Promise<void>;
}

interface Pending {
  requestId: string;
  event: unknown;
  deadline: number;
  delivered: boolean;
  settle(invocation: Invocation | Error): void;
}

const readBody = async (request: IncomingMessage): Promise<unknown> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

export async function startRuntimeApi(functionName: string): Promise<RuntimeApi> {
  let pending: Pending | undefined;
  // The runtime's long poll while there is no event for it.
  let waiting: ServerResponse | undefined;
  let gone: string | undefined;
  const reported: ReportedError[] = [];

  const deliver = (work: Pending, response: ServerResponse) => {
    work.delivered = true;
    const body = JSON.stringify(work.event);
    // The headers the RIC builds the handler's context from; it refuses an event without the first three.
    response.writeHead(200, {
      'content-type': 'application/json',
      'lambda-runtime-aws-request-id': work.requestId,
      'lambda-runtime-deadline-ms': String(work.deadline),
      'lambda-runtime-invoked-function-arn': `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
      'lambda-runtime-trace-id': `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replaceAll('-', '').slice(0, 24)};Sampled=0`,
    });
    response.end(body);
  };

  const accepted = (response: ServerResponse) => {
    response.writeHead(202, { 'content-type': 'application/json' });
    response.end('{"status":"OK"}');
  };

  const server = createServer(async (request, response) => {
    const path = new URL(request.url ?? '/', 'http://runtime').pathname;
    if (request.method === 'GET' && path === `${PREFIX}/invocation/next`) {
      if (pending && !pending.delivered) return deliver(pending, response);
      waiting = response;
      response.on('close', () => {
        if (waiting === response) waiting = undefined;
      });
      return;
    }
    const answer = request.method === 'POST' ? /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path) : null;
    if (answer) {
      const body = await readBody(request);
      const work = pending;
      if (!work || decodeURIComponent(answer[1]!) !== work.requestId) {
        response.writeHead(400, { 'content-type': 'application/json' });
        return response.end('{"errorType":"InvalidRequestID"}');
      }
      if (answer[2] === 'error') reported.push({ path, errorType: request.headers['lambda-runtime-function-error-type'] as string | undefined, body });
      accepted(response);
      return work.settle({ requestId: work.requestId, outcome: answer[2] as Invocation['outcome'], body });
    }
    if (request.method === 'POST' && path === `${PREFIX}/init/error`) {
      reported.push({ path, errorType: request.headers['lambda-runtime-function-error-type'] as string | undefined, body: await readBody(request) });
      accepted(response);
      return abandon('the function failed to start (/init/error)');
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ errorType: 'NotFound', path }));
  });

  const abandon = (reason: string) => {
    gone ??= reason;
    pending?.settle(new Error(gone));
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    address: `127.0.0.1:${port}`,
    reported,
    abandon,
    invoke: (event, timeoutMs) =>
      new Promise<Invocation>((resolve, reject) => {
        if (gone) return reject(new Error(gone));
        if (pending) return reject(new Error('one invocation at a time: a Lambda environment runs one event at once'));
        const timer = setTimeout(() => work.settle(new Error(`no answer within the function's timeout (${timeoutMs} ms)`)), timeoutMs);
        const work: Pending = {
          requestId: randomUUID(),
          event,
          deadline: Date.now() + timeoutMs,
          delivered: false,
          settle: (outcome) => {
            clearTimeout(timer);
            pending = undefined;
            if (outcome instanceof Error) reject(outcome);
            else resolve(outcome);
          },
        };
        pending = work;
        if (waiting) {
          const response = waiting;
          waiting = undefined;
          deliver(work, response);
        }
      }),
    close: () =>
      new Promise<void>((resolve) => {
        waiting?.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
