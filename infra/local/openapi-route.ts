// The API description, served by the local server only (its row says so).
import type { Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { buildOpenApi } from '#lib/openapi';
import { ROUTES, routes } from '#lib/routes';

export function createOpenApiHandler({ settings, logger }: Deps) {
  const document = JSON.stringify(buildOpenApi(routes, settings), null, 2);
  return createApiHandler(ROUTES.openApi, { settings, logger }, async () => ({ text: document, contentType: 'application/json', cacheControl: 'no-store' }));
}
