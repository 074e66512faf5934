// npm run openapi: writes docs/openapi.json from the route table and the request schemas.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { routes } from '../lib/routes.ts';
import { buildOpenApi } from '../lib/openapi.ts';
import { PROJECT_ROOT } from './server-process.ts';

const file = join(PROJECT_ROOT, 'docs/openapi.json');
writeFileSync(file, `${JSON.stringify(buildOpenApi(routes), null, 2)}\n`);
console.log(`wrote ${file}`);
