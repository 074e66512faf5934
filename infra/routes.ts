// The one route table: the CDK stack, the local server, the sam local events and the API
// description are all made from it. Adding a route is one line here plus its handler file.

export interface Route {
  /** Also the handler file name (functions/<name>.ts) and the sam local event name. */
  name: string;
  method: 'POST' | 'GET';
  path: string;
  summary: string;
}

export const routes: readonly Route[] = [
  { name: 'generate-token', method: 'POST', path: '/api/jitsi/generate-token', summary: 'Mint a Jitsi token for one user in one room.' },
  { name: 'create-room', method: 'POST', path: '/api/jitsi/create-room', summary: 'Create the room of an appointment, with a therapist and a client token.' },
  { name: 'validate-token', method: 'POST', path: '/api/jitsi/validate-token', summary: 'Check whether Jitsi would accept a token (optionally for a room), with a reason when not.' },
  { name: 'refresh-token', method: 'POST', path: '/api/jitsi/refresh-token', summary: 'Renew a token this service issued, for the same room, role and identity.' },
];

export const handlerEntry = (route: Route): string => `functions/${route.name}.ts`;

/** A stable CloudFormation logical id (GenerateTokenFunction), so sam local commands can name it. */
export const functionLogicalId = (route: Route): string =>
  `${route.name.replace(/(^|-)([a-z])/g, (_, __, letter: string) => letter.toUpperCase())}Function`;
