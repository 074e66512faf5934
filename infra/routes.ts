// The one route table: the CDK stack, the local server, the sam local events and the API
// description are all made from it. Adding a route is one line here plus its handler file.

export interface Route {
  /** Also the handler file name (functions/<name>.ts) and the sam local event name. */
  name: string;
  method: 'POST' | 'GET';
  /** API Gateway route syntax: `{name}` is a path parameter. */
  path: string;
  summary: string;
  /** No caller authentication, even when the rest of the API has it. */
  public?: boolean;
}

export const routes: readonly Route[] = [
  { name: 'generate-token', method: 'POST', path: '/api/jitsi/generate-token', summary: 'Mint a Jitsi token for one user in one room.' },
  { name: 'create-room', method: 'POST', path: '/api/jitsi/create-room', summary: 'Create the room of an appointment, with a therapist and a client token.' },
  { name: 'validate-token', method: 'POST', path: '/api/jitsi/validate-token', summary: 'Check whether Jitsi would accept a token (optionally for a room), with a reason when not.' },
  { name: 'refresh-token', method: 'POST', path: '/api/jitsi/refresh-token', summary: 'Renew a token this service issued, for the same room, role and identity.' },
  { name: 'jitsi-keys', method: 'GET', path: '/api/jitsi/keys/{keyFile}', summary: "RS256 mode: the public keys for Prosody's asap_key_server.", public: true },
];

export const handlerEntry = (route: Route): string => `functions/${route.name}.ts`;

/** A stable CloudFormation logical id (GenerateTokenFunction), so sam local commands can name it. */
export const functionLogicalId = (route: Route): string =>
  `${route.name.replace(/(^|-)([a-z])/g, (_, __, letter: string) => letter.toUpperCase())}Function`;

/** Matches a request path against a route path, returning its path parameters (or undefined). */
export function matchRoute(route: Route, path: string): Record<string, string> | undefined {
  const expected = route.path.split('/');
  const actual = path.split('/');
  if (expected.length !== actual.length) return undefined;
  const parameters: Record<string, string> = {};
  for (const [index, segment] of expected.entries()) {
    const value = actual[index]!;
    const parameter = /^\{(\w+)\}$/.exec(segment)?.[1];
    if (parameter !== undefined) {
      if (value === '') return undefined;
      try {
        parameters[parameter] = decodeURIComponent(value);
      } catch {
        return undefined;
      }
    } else if (segment !== value) return undefined;
  }
  return parameters;
}
