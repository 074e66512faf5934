// Middleware: turns what a handler answers (lib/http/types.ts Reply) into the API Gateway result,
// and keeps the tokens it carries for the access log.
import { JSON_TYPE, type ApiMiddleware, type Reply } from './types.ts';

export function replySerializer(): ApiMiddleware {
  return {
    after(request) {
      const reply = request.response as unknown as Reply;
      if ('text' in reply) {
        request.response = { statusCode: 200, headers: { 'content-type': reply.contentType, 'cache-control': reply.cacheControl }, body: reply.text };
        return;
      }
      if (reply.tokens !== undefined) request.internal.tokens = reply.tokens;
      request.response = { statusCode: reply.status ?? 200, headers: { 'content-type': JSON_TYPE }, body: JSON.stringify(reply.body) };
    },
  };
}
