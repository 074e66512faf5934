// A loopback endpoint in front of the embedded store that answers DynamoDB's protocol (AWS JSON
// 1.0) with faults: throttled, 5xx, hung, malformed JSON, or an item of the wrong shape. With no
// fault it passes each call through to dynalite, so a test can set up data and then break it.
// It can also fail one chosen call, before it reaches the store or after the store applied it
// (the answer lost on the way back), and hold a call until the test lets it go, so races are
// ordered by the test instead of by timing.
import { createServer, request as forward, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type StoreFault = 'none' | 'throttled' | 'server-error' | 'hang' | 'malformed' | 'garbled-item';

/** Where a planned fault strikes: before the store sees the call, or after it applied it. */
export type FaultPoint = 'before' | 'after';

export interface PlannedFault {
  /** The call to fail, counted from 0 since the plan was set. */
  call: number;
  point: FaultPoint;
  /** Every later call fails too (the store stays down) until the plan is cleared; otherwise only that one. */
  thenDown: boolean;
}

export interface Gate {
  /** Resolves when the held call has arrived (it is not forwarded yet). */
  reached: Promise<void>;
  /** Lets the held call through to the store. */
  release(): void;
}

export interface FakeDynamoDb {
  endpoint: string;
  fault: StoreFault;
  /** The operations seen (x-amz-target without the API prefix), faults included. */
  calls: string[];
  /** Fails one call of what follows (and, with thenDown, every later one); undefined clears it. */
  plan(fault: PlannedFault | undefined): void;
  /**
   * Holds the next call of this operation until released: before it reaches the store, or
   * after the store applied it (its answer delayed).
   */
  gate(operation: string, point?: FaultPoint): Gate;
  close(): Promise<void>;
}

const SERVER_ERROR: [number, string] = [500, JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'fake failure' })];
const GARBLED_ITEM = { pk: { S: 'APPT#x' }, status: { N: '7' } };

function faultAnswer(fault: StoreFault, operation: string): [number, string] | undefined {
  switch (fault) {
    case 'throttled':
      return [400, JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException', message: 'Rate exceeded' })];
    case 'server-error':
      return SERVER_ERROR;
    case 'malformed':
      return [200, '{"Item": {"pk": {"S": "unterminated'];
    case 'garbled-item':
      // An item of the wrong shape where the operation returns items.
      return [
        200,
        JSON.stringify(
          operation === 'Query' ? { Items: [GARBLED_ITEM], Count: 1 } : operation === 'GetItem' ? { Item: GARBLED_ITEM } : { Attributes: GARBLED_ITEM },
        ),
      ];
    default:
      return undefined;
  }
}

export async function startFakeDynamoDb(upstream: string): Promise<FakeDynamoDb> {
  const hung: ServerResponse[] = [];
  const upstreamUrl = new URL(upstream);
  const state = {
    fault: 'none' as StoreFault,
    calls: [] as string[],
    planned: undefined as PlannedFault | undefined,
    plannedFrom: 0,
    gates: [] as Array<{ operation: string; point: FaultPoint; arrived: () => void; released: Promise<void> }>,
  };
  const answer = (response: ServerResponse, [status, body]: [number, string]) => {
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'fake' });
    response.end(body);
  };
  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', async () => {
      const operation = String(incoming.headers['x-amz-target'] ?? '').replace(/^DynamoDB_\d+\./, '');
      const index = state.calls.push(operation) - 1;
      const gateAt = state.gates.findIndex((gate) => gate.operation === operation);
      const gate = gateAt >= 0 ? state.gates.splice(gateAt, 1)[0] : undefined;
      if (gate?.point === 'before') {
        gate.arrived();
        await gate.released;
      }
      if (state.fault === 'hang') {
        hung.push(response);
        return;
      }
      const fixed = faultAnswer(state.fault, operation);
      if (fixed) return answer(response, fixed);
      let planned: FaultPoint | undefined;
      if (state.planned !== undefined) {
        const nth = index - state.plannedFrom;
        if (nth === state.planned.call) planned = state.planned.point;
        else if (nth > state.planned.call && state.planned.thenDown) planned = 'before';
      }
      if (planned === 'before') return answer(response, SERVER_ERROR);
      const proxied = forward(
        { host: upstreamUrl.hostname, port: upstreamUrl.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
        async (upstreamResponse) => {
          if (gate?.point === 'after') {
            upstreamResponse.pause();
            gate.arrived();
            await gate.released;
          }
          if (planned === 'after') {
            // The store applied the call; its answer is lost on the way back.
            upstreamResponse.resume();
            upstreamResponse.on('end', () => answer(response, SERVER_ERROR));
            return;
          }
          response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
          upstreamResponse.pipe(response);
        },
      );
      proxied.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get fault() {
      return state.fault;
    },
    set fault(value) {
      state.fault = value;
    },
    calls: state.calls,
    plan(fault) {
      state.planned = fault;
      state.plannedFrom = state.calls.length;
    },
    gate(operation, point = 'before') {
      let arrived!: () => void;
      let release!: () => void;
      const reached = new Promise<void>((done) => {
        arrived = done;
      });
      const released = new Promise<void>((done) => {
        release = done;
      });
      state.gates.push({ operation, point, arrived, released });
      return { reached, release };
    },
    close: () =>
      new Promise<void>((done) => {
        for (const gate of state.gates.splice(0)) gate.arrived();
        for (const response of hung) response.destroy();
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
