// A loopback endpoint in front of the embedded store that answers DynamoDB's protocol (AWS JSON
// 1.0) with faults: throttled, 5xx, hung, malformed JSON, or an item of the wrong shape. With no
// fault it passes each call through to dynalite, so a test can set up data and then break it.
import { createServer, request as forward, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type StoreFault = 'none' | 'throttled' | 'server-error' | 'hang' | 'malformed' | 'garbled-item';

export interface FakeDynamoDb {
  endpoint: string;
  fault: StoreFault;
  /** The operations seen (x-amz-target without the API prefix), faults included. */
  calls: string[];
  close(): Promise<void>;
}

const FAULT_ANSWERS: Partial<Record<StoreFault, [number, string]>> = {
  throttled: [400, JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException', message: 'Rate exceeded' })],
  'server-error': [500, JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'fake failure' })],
  malformed: [200, '{"Item": {"pk": {"S": "unterminated'],
  'garbled-item': [200, JSON.stringify({ Item: { pk: { S: 'APPT#x' }, status: { N: '7' } } })],
};

export async function startFakeDynamoDb(upstream: string): Promise<FakeDynamoDb> {
  const hung: ServerResponse[] = [];
  const upstreamUrl = new URL(upstream);
  const state = { fault: 'none' as StoreFault, calls: [] as string[] };
  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      state.calls.push(String(incoming.headers['x-amz-target'] ?? '').replace(/^DynamoDB_\d+\./, ''));
      if (state.fault === 'hang') {
        hung.push(response);
        return;
      }
      const answer = FAULT_ANSWERS[state.fault];
      if (answer) {
        response.writeHead(answer[0], { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'fake' });
        return response.end(answer[1]);
      }
      const proxied = forward(
        { host: upstreamUrl.hostname, port: upstreamUrl.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
        (upstreamResponse) => {
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
    close: () =>
      new Promise<void>((done) => {
        for (const response of hung) response.destroy();
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
