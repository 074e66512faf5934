// The documented sam local path, as far as it runs without Docker or the SAM CLI (neither is on
// this machine): each bundle with the environment sam local gives it (the auth=none template's
// variables, its Refs resolved to logical ids as SAM resolves them, events/env.json's Parameters
// over the variables the template declares, AWS_SAM_LOCAL=true, no AWS credentials) and the
// store `npm start` serves with LOCAL_STORE_PORT, which env.json's APPOINTMENTS_ENDPOINT names
// (here on loopback instead of host.docker.internal). Every committed event, in route order,
// store routes included. Mocked: only Docker itself (the function runs in a plain Node process).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTable, startEmbeddedStore, type EmbeddedStore } from '../../infra/local/embedded-store.ts';
import { functionLogicalId } from '../../infra/token-function.ts';
import { functionOf, routesDeployedWith } from '../../lib/routes.ts';
import {
  assetDirOf,
  BUNDLE_CONTEXT,
  bundledDeployment,
  committedEvent,
  expectCommittedAnswer,
  invokeBundleIn,
  type TemplateFunction,
} from '../helpers/deployed-bundles.ts';

const parameters = JSON.parse(readFileSync('events/env.json', 'utf8')).Parameters as Record<string, string>;
const deployment = bundledDeployment(BUNDLE_CONTEXT);
let localStore: EmbeddedStore;

beforeAll(async () => {
  // What `LOCAL_STORE_PORT=8000 npm start` serves, on a free port of this machine.
  localStore = await startEmbeddedStore('memory', process.cwd(), { host: '127.0.0.1', port: 0 });
  await ensureTable(localStore.client, parameters.APPOINTMENTS_TABLE!);
});
afterAll(() => localStore.close());

/** The environment `sam local invoke <logical id> --env-vars events/env.json` gives a function. */
function samLocalEnvironment(fn: TemplateFunction, logicalId: string): Record<string, string> {
  const template = Object.fromEntries(
    Object.entries(fn.Properties.Environment.Variables).map(([variable, value]) => [
      variable,
      // SAM resolves a Ref to the logical id it names (not a table name or an ARN).
      typeof value === 'string' ? value : String((value as { Ref?: string }).Ref ?? JSON.stringify(value)),
    ]),
  );
  const declared = Object.fromEntries(Object.entries(parameters).filter(([variable]) => variable in template));
  return {
    PATH: process.env.PATH ?? '',
    ...template,
    ...declared,
    APPOINTMENTS_ENDPOINT: declared.APPOINTMENTS_ENDPOINT!.replace('http://host.docker.internal:8000', localStore.client.endpoint),
    AWS_SAM_LOCAL: 'true',
    AWS_LAMBDA_FUNCTION_NAME: logicalId,
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

describe('sam local with events/env.json', () => {
  it('points every function at the table and the store env.json names, and publishes nowhere', () => {
    expect(parameters).toMatchObject({
      APPOINTMENTS_TABLE: 'jitsi-appointments',
      APPOINTMENTS_ENDPOINT: 'http://host.docker.internal:8000',
      EVENT_BUS_NAME: '',
    });
  });

  it.each(routesDeployedWith('hs256').map((route) => [route.name, route] as const))(
    '%s: answers its committed event from the local store',
    async (_, route) => {
      const logicalId = functionLogicalId(functionOf(route)!);
      const fn = deployment.resources[logicalId] as TemplateFunction;
      const { result } = await invokeBundleIn(assetDirOf(deployment.outdir, fn), samLocalEnvironment(fn, logicalId), committedEvent(route), 'sam-local');
      expect(result.statusCode, result.body).not.toBe(503);
      // Signed with env.json's own secret: the committed validate and refresh tokens are this deployment's.
      if (route.name === 'validate-token') expect(JSON.parse(result.body)).toMatchObject({ valid: expect.any(Boolean) });
      else if (route.name === 'refresh-token') expect(result.statusCode).toBeLessThan(500);
      else expectCommittedAnswer(route, result);
    },
  );
});
