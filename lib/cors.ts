// CORS for browser callers. In AWS the HTTP API answers preflight from the same settings; the
// local server answers it with preflightHeaders.
export const CORS_ALLOWED_HEADERS = ['content-type', 'authorization'] as const;
export const CORS_EXPOSED_HEADERS = ['retry-after', 'x-request-id'] as const;
export const CORS_MAX_AGE_SECONDS = 600;

/**
 * In an allowed-origins list: any loopback origin (`http://localhost:<port>`, `http://127.0.0.1:<port>`,
 * `http://[::1]:<port>`). The local server adds it, so a developer's front end on another port
 * works with no settings; a deployed function never has it (CORS_ORIGINS cannot name it).
 */
export const LOOPBACK_ORIGINS = 'loopback';
const LOOPBACK_ORIGIN = /^http:\/\/(?:localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?$/;

export function isAllowedOrigin(origin: string | undefined, allowed: readonly string[]): origin is string {
  if (origin === undefined) return false;
  return allowed.includes(origin) || (allowed.includes(LOOPBACK_ORIGINS) && LOOPBACK_ORIGIN.test(origin));
}

const NO_CORS: Readonly<Record<string, string>> = Object.freeze({ vary: 'origin' });

/** Headers for an actual (non-preflight) response, errors included so pages can read problems. */
export function corsResponseHeaders(origin: string | undefined, allowed: readonly string[]): Readonly<Record<string, string>> {
  if (!isAllowedOrigin(origin, allowed)) return NO_CORS;
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': CORS_EXPOSED_HEADERS.join(', '),
    vary: 'origin',
  };
}

export function preflightHeaders(origin: string | undefined, allowed: readonly string[], allowMethods: readonly string[]): Record<string, string> {
  if (!isAllowedOrigin(origin, allowed)) return { vary: 'origin' };
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': allowMethods.join(', '),
    'access-control-allow-headers': CORS_ALLOWED_HEADERS.join(', '),
    'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
    vary: 'origin',
  };
}
