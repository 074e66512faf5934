// Middleware: one structured log line per request: route, status, problem type, duration, and
// how many tokens of each role went out. Who asked is the request id, never a name or an email.
import { SETTINGS } from '../config.ts';
import type { Logger } from '../log.ts';
import { requestIdOf, type ApiMiddleware, type ApiRequest } from './types.ts';

const UNAUTHENTICATED_ISSUE = `tokens issued without caller authentication (${SETTINGS.authMode.variable}=none)`;

export interface AccessLogOptions {
  logger: Logger;
  route: string;
  authMode: 'none' | 'jwt';
}

export function accessLog(options: AccessLogOptions): ApiMiddleware {
  const { logger, route, authMode } = options;
  const write = (request: ApiRequest) => {
    const tokens = request.internal.tokens;
    let moderatorTokens: number | undefined;
    let participantTokens: number | undefined;
    if (tokens !== undefined) {
      moderatorTokens = tokens.filter((token) => token.moderator).length;
      participantTokens = tokens.length - moderatorTokens;
    }
    const startedAt = request.internal.startedAt;
    const fields = {
      route,
      status: request.response?.statusCode,
      problem: request.internal.problemType,
      requestId: requestIdOf(request),
      durationMs: startedAt === undefined ? undefined : Math.round(performance.now() - startedAt),
      authMode,
      moderatorTokens,
      participantTokens,
    };
    if (tokens !== undefined && authMode === 'none') logger.warn(UNAUTHENTICATED_ISSUE, fields);
    else logger.info(tokens !== undefined ? 'tokens issued' : 'request', fields);
  };
  return {
    before(request) {
      request.internal.startedAt = performance.now();
    },
    after: write,
    onError: write,
  };
}
