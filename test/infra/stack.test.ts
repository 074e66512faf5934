// Template assertions on the synthesised stack (no bundling) and cdk-nag AwsSolutions.
import { readFileSync } from 'node:fs';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  deployedRoutes,
  FUNCTIONS,
  functionOf,
  functionsDeployedWith,
  KEEP_WARM_EVERY_MINUTES,
  KEEP_WARM_PING,
  readsAppSecret,
  readsReservationKey,
  routeKeyOf,
  ROUTES,
  routesDeployedWith,
  routesOf,
  storeActionsOf,
  publishesEvents,
  readsEventsKey,
  type FunctionDefinition,
  type FunctionNeeds,
  type RouteDefinition,
} from '../../lib/routes.ts';
import { functionLogicalId } from '../../infra/token-function.ts';
import { policyStatementsOf, type PolicyStatement } from '../../infra/permissions.ts';
import { handlerFactoryOf } from '../../lib/http/function-handler.ts';

/** The default deployment signs with HS256: the RS256 keys function and route are not in it. */
const routes = routesDeployedWith('hs256');
const functions = functionsDeployedWith('hs256');
import { AUTH_CONTEXT_HELP } from '../../infra/stack-settings.ts';
import { JWT_CONTEXT, synth } from '../helpers/synth.ts';

const jwtStack = synth(JWT_CONTEXT);
/** RS256 signing with an imported key secret: the deployment that has the public keys function. */
const rs256 = synth({ ...JWT_CONTEXT, jitsiSigning: 'rs256', secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jitsi-rs256-AbCdEf' });
const noneStack = synth({ auth: 'none' });

function resourcesOf(template: ReturnType<typeof synth>['template'], type: string): Record<string, any> {
  return template.findResources(type);
}

type Statement = PolicyStatement;

/** The statements of a function's role policy and the actions they allow. */
function grantsOf(template: ReturnType<typeof synth>['template'], fn: FunctionDefinition): { actions: string[]; statements: Statement[] } {
  const statements = policyStatementsOf(template.toJSON(), fn)!;
  return { statements, actions: statements.flatMap((statement) => [statement.Action].flat()).sort() };
}

/**
 * Each function: log writes; the app secret only if one of its routes (or its jobs) signs; Prosody's
 * keys only with a Prosody route; exactly the union of its routes' table actions (and, in RS256,
 * what publishing the public key takes).
 */
function expectLeastPrivilege(
  template: ReturnType<typeof synth>['template'],
  deployed: readonly FunctionDefinition[],
  deployedRoutesOfMode: readonly RouteDefinition[],
  needs: FunctionNeeds = { endsMeetings: false, signing: 'hs256' },
) {
  const resources = template.toJSON().Resources;
  expect(Object.values(resourcesOf(template, 'AWS::IAM::Policy'))).toHaveLength(deployed.length);
  for (const fn of deployed) {
    const own = routesOf(fn, deployedRoutesOfMode);
    const signs = readsAppSecret(fn, own, needs);
    const { actions, statements } = grantsOf(template, fn);
    const secretRead = ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'];
    const keyRead = [...(readsReservationKey(own) ? secretRead : []), ...(readsEventsKey(own) ? secretRead : [])];
    expect(actions, fn.name).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        ...(signs ? secretRead : []),
        ...keyRead,
        ...storeActionsOf(own, signs && needs.signing === 'rs256'),
        ...(publishesEvents(own) ? ['events:PutEvents'] : []),
      ].sort(),
    );
    const variables = resources[functionLogicalId(fn)].Properties.Environment.Variables;
    expect(variables.JITSI_SECRET_ARN !== undefined, fn.name).toBe(signs);
    expect(variables.RESERVATIONS_KEY_ARN !== undefined).toBe(readsReservationKey(own));
    expect(variables.EVENTS_KEY_ARN !== undefined).toBe(readsEventsKey(own));
    expect(variables.EVENT_BUS_NAME !== undefined).toBe(publishesEvents(own));
    // events:PutEvents on the stack's bus alone.
    const putEvents = statements.find((statement) => [statement.Action].flat().includes('events:PutEvents'));
    if (publishesEvents(own)) expect(JSON.stringify(putEvents?.Resource)).toMatch(/^\{"Fn::GetAtt":\["Events[0-9A-F]+","Arn"\]\}$/);
    else expect(putEvents).toBeUndefined();
    for (const statement of statements) expect(JSON.stringify(statement.Resource)).not.toBe('"*"');
    const secretStatement = statements.find(
      (statement) =>
        [statement.Action].flat().includes('secretsmanager:GetSecretValue') && !/ReservationsKey|EventsKey/.test(JSON.stringify(statement.Resource)),
    );
    if (signs) expect(JSON.stringify(secretStatement?.Resource)).toMatch(/^\{"Ref":"AppSecret|^"arn:aws:secretsmanager:[\w-]+:\d+:secret:jitsi-/);
    else expect(secretStatement, fn.name).toBeUndefined();
    const tableStatement = statements.find((statement) => [statement.Action].flat().some((action) => action.startsWith('dynamodb:')));
    if (storeActionsOf(own).length === 0) expect(tableStatement).toBeUndefined();
    else expect(JSON.stringify(tableStatement?.Resource)).toMatch(/^\[?\{"Fn::GetAtt":\["Appointments[0-9A-F]+","Arn"\]\}/);
  }
}

describe('JitsiTokenStack', () => {
  it('has one API route per route of the table, each integrated with the function its row names, behind the JWT authorizer unless public', () => {
    const { template } = jwtStack;
    template.resourceCountIs('AWS::Lambda::Function', functions.length);
    template.resourceCountIs('AWS::ApiGatewayV2::Route', routes.length);
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', functions.length);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: 'https://issuer.example', Audience: ['app-client'] },
    });
    const resources = template.toJSON().Resources as Record<string, any>;
    const apiRoutes = Object.values(resources).filter((resource) => resource.Type === 'AWS::ApiGatewayV2::Route');
    for (const route of routes) {
      const apiRoute = apiRoutes.find((candidate) => candidate.Properties.RouteKey === routeKeyOf(route));
      expect(apiRoute?.Properties.AuthorizationType, route.name).toBe(route.caller === 'required' ? 'JWT' : 'NONE');
      if (route.caller === 'required') expect(apiRoute.Properties.AuthorizerId).toBeDefined();
      const integrationId = JSON.stringify(apiRoute.Properties.Target).match(/"Ref":"(\w+)"/)![1]!;
      const uri = resources[integrationId].Properties.IntegrationUri;
      expect(uri, route.name).toEqual({ 'Fn::GetAtt': [functionLogicalId(functionOf(route)!), 'Arn'] });
    }
  });

  it('lets API Gateway invoke each function only for its own routes', () => {
    const resources = jwtStack.template.toJSON().Resources as Record<string, any>;
    const permissions = Object.values(resources).filter(
      (resource) => resource.Type === 'AWS::Lambda::Permission' && resource.Properties.Principal === 'apigateway.amazonaws.com',
    );
    expect(permissions).toHaveLength(routes.length);
    for (const fn of functions) {
      const own = permissions.filter((permission) => JSON.stringify(permission.Properties.FunctionName).includes(`"${functionLogicalId(fn)}"`));
      const paths = own.map((permission) => JSON.stringify(permission.Properties.SourceArn));
      expect(own, fn.name).toHaveLength(routesOf(fn, routes).length);
      // API Gateway's source ARN names the route's path, on any stage and method.
      for (const route of routesOf(fn, routes))
        expect(
          paths.some((arn) => arn.includes(`"/*/*${route.path}"`)),
          route.name,
        ).toBe(true);
    }
  });

  it('configures each function: nodejs24.x on arm64, its measured memory, 10 s, JSON logs to its own log group, settings from context', () => {
    // The sizes docs/PERFORMANCE.md chose from npm run bench:cpu (memory sets the CPU share).
    const rs256Functions = rs256.template.toJSON().Resources;
    for (const [fn, memory] of [
      [FUNCTIONS.callerApi, 1024],
      [FUNCTIONS.reservationsApi, 1024],
      [FUNCTIONS.publicKeys, 1024],
    ] as const)
      expect(rs256Functions[functionLogicalId(fn)].Properties.MemorySize, fn.name).toBe(memory);
    const functions = Object.values(resourcesOf(jwtStack.template, 'AWS::Lambda::Function'));
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Timeout: 10, Handler: 'index.handler' });
      expect(fn.Properties.LoggingConfig).toMatchObject({ LogFormat: 'JSON', LogGroup: { Ref: expect.any(String) } });
      expect(fn.Properties.Environment.Variables).toMatchObject({
        AUTH_MODE: 'jwt',
        JITSI_DOMAIN: 'meet.acme.org',
        JITSI_APP_ID: 'acme',
        JITSI_SUB: 'meet.jitsi',
        MODERATOR_CLAIM: 'cognito:groups',
        MODERATOR_VALUES: 'therapists',
        CORS_ORIGINS: 'https://app.acme.org',
      });
      expect(fn.Properties.Environment.Variables).not.toHaveProperty('JITSI_APP_SECRET');
    }
    // Only the function that signs is told where the app secret is (the others may not read it).
    const resources = jwtStack.template.toJSON().Resources;
    expect(resources[functionLogicalId(FUNCTIONS.callerApi)].Properties.Environment.Variables.JITSI_SECRET_ARN).toEqual({ Ref: expect.any(String) });
    expect(resources[functionLogicalId(FUNCTIONS.reservationsApi)].Properties.Environment.Variables).not.toHaveProperty('JITSI_SECRET_ARN');
    const logGroups = Object.values(resourcesOf(jwtStack.template, 'AWS::Logs::LogGroup'));
    expect(logGroups).toHaveLength(functions.length + 1);
    for (const group of logGroups) expect(group.Properties.RetentionInDays).toBe(30);
  });

  it("grants each function only log writes to its own group, reading the one secret, and exactly its routes' table actions", () => {
    expectLeastPrivilege(jwtStack.template, functions, routes);
    for (const role of Object.values(resourcesOf(jwtStack.template, 'AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('grants no function anything none of its routes uses, in either signing mode', () => {
    for (const [template, signing] of [
      [jwtStack.template, 'hs256'],
      [rs256.template, 'rs256'],
    ] as const) {
      for (const fn of functionsDeployedWith(signing)) {
        const { actions, statements } = grantsOf(template, fn);
        const signs = readsAppSecret(fn, routesOf(fn, routesDeployedWith(signing)), { endsMeetings: false });
        const used = new Set(storeActionsOf(routesOf(fn, routesDeployedWith(signing)), signs && signing === 'rs256'));
        // Every table action granted is one some route of the function names.
        for (const action of actions.filter((granted) => granted.startsWith('dynamodb:')))
          expect(used.has(action as never), `${fn.name}: ${action}`).toBe(true);
        const readsKey = statements.some((statement) => JSON.stringify(statement.Resource).includes('ReservationsKey'));
        expect(readsKey, fn.name).toBe(readsReservationKey(routesOf(fn, routesDeployedWith(signing))));
      }
    }
    // The public keys function (unauthenticated) reads the published public keys, one item, and no secret at all.
    const keys = grantsOf(rs256.template, FUNCTIONS.publicKeys);
    expect(keys.actions).toEqual(['dynamodb:GetItem', 'logs:CreateLogStream', 'logs:PutLogEvents']);
    // On the published keys' partition only (the table holds appointments and attendance).
    const keysRead = keys.statements.find((statement) => [statement.Action].flat().includes('dynamodb:GetItem'))!;
    expect(keysRead.Condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['KEYS'] } });
    // Prosody's function reads no app secret unless it ends meetings (-c endMeetingUrl).
    expect(grantsOf(rs256.template, FUNCTIONS.reservationsApi).statements.some((statement) => JSON.stringify(statement.Resource).includes('jitsi-rs256'))).toBe(
      false,
    );
    expect(rs256.nagViolations).toEqual([]);
    // Every store route reads an appointment's newest events (Query); none writes more than one item per call.
    expect(routes.filter((route) => route.store.length > 0 && !route.store.includes('dynamodb:Query')).map((route) => route.name)).toEqual([]);
    expect(routes.flatMap((route) => route.store).filter((action) => /Batch|Transact|Scan/.test(action))).toEqual([]);
  });

  it('keeps appointments in one on-demand, encrypted table with point-in-time recovery and TTL, retained on stack deletion', () => {
    jwtStack.template.resourceCountIs('AWS::DynamoDB::Table', 1);
    const [id, table] = Object.entries(resourcesOf(jwtStack.template, 'AWS::DynamoDB::Table'))[0]!;
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      DeletionProtectionEnabled: true,
    });
    for (const fn of Object.values(resourcesOf(jwtStack.template, 'AWS::Lambda::Function'))) {
      expect(fn.Properties.Environment.Variables.APPOINTMENTS_TABLE).toEqual({ Ref: id });
    }
  });

  it('generates a 64-character secret by default and imports one by ARN from context', () => {
    jwtStack.template.hasResourceProperties('AWS::SecretsManager::Secret', { GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true } });
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jitsi-AbCdEf';
    const imported = synth({ ...JWT_CONTEXT, secretArn: arn });
    // Only Prosody's two keys are generated then; the app secret is the imported one.
    imported.template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    imported.template.hasResourceProperties('AWS::SecretsManager::Secret', { Description: Match.stringLikeRegexp('Prosody') });
    const fn = Object.values(resourcesOf(imported.template, 'AWS::Lambda::Function'))[0];
    expect(fn.Properties.Environment.Variables.JITSI_SECRET_ARN).toBe(arn);
    expect(imported.nagViolations).toEqual([]);
  });

  it('imports a secret by name and reads it by that name, even one ending in "-" + 6 characters', () => {
    // CDK's partial ARN for such a name would be taken by Secrets Manager for a complete ARN, and not found.
    const named = synth({ ...JWT_CONTEXT, secretName: 'jitsi-AbCdEf' });
    const told = Object.values(resourcesOf(named.template, 'AWS::Lambda::Function')).filter((fn) => fn.Properties.Environment.Variables.JITSI_SECRET_ARN);
    expect(told).toHaveLength(1);
    for (const fn of told) expect(fn.Properties.Environment.Variables.JITSI_SECRET_ARN).toBe('jitsi-AbCdEf');
    // The grant still matches the real ARN, which has Secrets Manager's own 6-character suffix after the name.
    expect(JSON.stringify(named.template.toJSON())).toContain(':secret:jitsi-AbCdEf-??????');
    expect(named.nagViolations).toEqual([]);
  });

  it('throttles the $default stage and writes JSON access logs with retention', () => {
    jwtStack.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"') },
    });
    const custom = synth({ ...JWT_CONTEXT, throttleRateLimit: 5, throttleBurstLimit: 7 });
    custom.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 7 } });
  });

  it('answers CORS preflight from the corsOrigins context', () => {
    jwtStack.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: {
        AllowOrigins: ['https://app.acme.org'],
        AllowMethods: Match.arrayWith(['POST']),
        AllowHeaders: ['content-type', 'authorization'],
        MaxAge: 600,
      },
    });
  });

  it('outputs the API URL and the secret ARN', () => {
    const outputs = jwtStack.template.toJSON().Outputs;
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['ApiUrl', 'SecretArn']));
  });

  it('deploys without an authorizer only with auth=none, and then declares the sam local secret slot', () => {
    noneStack.template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    noneStack.template.hasResourceProperties('AWS::ApiGatewayV2::Route', { AuthorizationType: 'NONE' });
    const fn = Object.values(resourcesOf(noneStack.template, 'AWS::Lambda::Function'))[0];
    expect(fn.Properties.Environment.Variables).toMatchObject({ AUTH_MODE: 'none', JITSI_APP_SECRET: '' });
  });

  it('stops with the explanatory message when no auth context is given', () => {
    expect(() => synth({})).toThrow(AUTH_CONTEXT_HELP);
    expect(() => synth({ authIssuer: 'https://issuer.example' })).toThrow(/Both authIssuer and authAudience/);
    expect(() => synth({ auth: 'none', authIssuer: 'https://i.example', authAudience: 'a' })).toThrow(/cannot be combined/);
  });

  it('has no cdk-nag AwsSolutions finding that is not acknowledged with a reason, in either mode', () => {
    expect(jwtStack.nagViolations).toEqual([]);
    expect(noneStack.nagViolations).toEqual([]);
  });

  it('has every logical id the README passes to sam local invoke, and an event for each', () => {
    const readme = readFileSync('README.md', 'utf8');
    // The README invokes the fresh events npm run events writes into .events-now/: the committed ones in events/ have the same names.
    const invoked = [...readme.matchAll(/sam local invoke (\w+) .*?-e (?:events|\.events-now)\/([\w-]+\.json)/gs)].map(
      (match) => [match[1]!, match[2]!] as const,
    );
    expect(invoked.length).toBeGreaterThanOrEqual(3);
    const resources = noneStack.template.toJSON().Resources;
    for (const [logicalId, eventFile] of invoked) {
      expect(resources[logicalId]?.Type, logicalId).toBe('AWS::Lambda::Function');
      expect(() => readFileSync(`events/${eventFile}`)).not.toThrow();
    }
  });

  it("lists in the README each deployed route's event with the function that runs it", () => {
    const readme = readFileSync('README.md', 'utf8');
    const listed = [...readme.matchAll(/^\| `(\w+Function)` \| `events\/([\w-]+)\.json` \|$/gm)].map((match) => `${match[1]} ${match[2]}`);
    expect(listed.sort()).toEqual(deployedRoutes.map((route) => `${functionLogicalId(functionOf(route)!)} ${route.name}`).sort());
  });

  it('declares every variable of events/env.json on every function, so sam local applies them', () => {
    const envFile = JSON.parse(readFileSync('events/env.json', 'utf8')) as Record<string, Record<string, string>>;
    const resources = noneStack.template.toJSON().Resources;
    for (const fn of functions) {
      const declared = Object.keys(resources[functionLogicalId(fn)].Properties.Environment.Variables);
      for (const [scope, variables] of Object.entries(envFile)) {
        if (scope !== 'Parameters' && scope !== functionLogicalId(fn)) continue;
        expect(declared).toEqual(expect.arrayContaining(Object.keys(variables)));
      }
    }
  });
});

describe('deploying with RS256 or a customer-managed key', () => {
  it('refuses to synth RS256 without an imported key secret, saying how to make one', () => {
    expect(() => synth({ ...JWT_CONTEXT, jitsiSigning: 'rs256' })).toThrow(/RS256 signing needs a secret holding/);
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jitsi-rs256-AbCdEf';
    const imported = synth({ ...JWT_CONTEXT, jitsiSigning: 'rs256', secretArn: arn });
    // Prosody's two keys only: the signing key is the imported one.
    imported.template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    expect(imported.nagViolations).toEqual([]);
  });

  it('grants kms:Decrypt on the key of an imported secret to every function that reads it, and to no other', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const imported = synth({ ...JWT_CONTEXT, secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jitsi-AbCdEf', secretKmsKeyArn: keyArn });
    for (const fn of functions) {
      const { statements } = grantsOf(imported.template, fn);
      const decrypt = statements.find((statement) => [statement.Action].flat().includes('kms:Decrypt'));
      const readsSecret = statements.some((statement) => JSON.stringify(statement.Resource).includes(':secret:jitsi-AbCdEf'));
      expect(readsSecret, fn.name).toBe(fn === FUNCTIONS.callerApi);
      expect(decrypt?.Resource, fn.name).toBe(readsSecret ? keyArn : undefined);
    }
    expect(imported.nagViolations).toEqual([]);
    expect(() => synth({ ...JWT_CONTEXT, secretKmsKeyArn: keyArn })).toThrow(/goes with an imported secret/);
    expect(() => synth({ ...JWT_CONTEXT, secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf', secretKmsKeyArn: 'alias/mine' })).toThrow(
      /ARN of a KMS key/,
    );
  });
});

describe('the functions a deployment has', () => {
  it("gives Prosody's function the app secret only when it ends meetings (-c endMeetingUrl), and then in RS256 what publishing the key takes", () => {
    for (const [signing, context] of [
      ['hs256', JWT_CONTEXT],
      ['rs256', { ...JWT_CONTEXT, jitsiSigning: 'rs256', secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jitsi-rs256-AbCdEf' }],
    ] as const) {
      const ending = synth({ ...context, endMeetingUrl: 'https://meet.acme.org/end-meeting-7f3a' });
      expectLeastPrivilege(ending.template, functionsDeployedWith(signing), routesDeployedWith(signing), { endsMeetings: true, signing });
      const { statements } = grantsOf(ending.template, FUNCTIONS.reservationsApi);
      expect(
        statements.some((statement) => /AppSecret|jitsi-rs256/.test(JSON.stringify(statement.Resource))),
        signing,
      ).toBe(true);
      expect(ending.nagViolations).toEqual([]);
    }
  });

  it('deploys the RS256 keys function only in RS256 mode, with exactly the RS256 routes', () => {
    rs256.template.resourceCountIs('AWS::Lambda::Function', Object.keys(FUNCTIONS).length);
    rs256.template.resourceCountIs('AWS::ApiGatewayV2::Route', deployedRoutes.length);
    expectLeastPrivilege(rs256.template, functionsDeployedWith('rs256'), routesDeployedWith('rs256'), { endsMeetings: false, signing: 'rs256' });
    expect(functions).not.toContain(FUNCTIONS.publicKeys);
    expect(routes.some((route) => route.onlyWithSigning !== undefined)).toBe(false);
  });

  it('puts every deployed route in a function whose entry runs exactly its routes', async () => {
    for (const fn of Object.values(FUNCTIONS)) {
      expect(routesOf(fn).length, fn.name).toBeGreaterThan(0);
      // The entry's factory refuses at load a handler set that differs from the table's.
      const module = await import(`../../${fn.entry}`);
      expect(() => handlerFactoryOf(module, fn.entry)).not.toThrow();
      expect(typeof module.handler).toBe('function');
    }
    expect(deployedRoutes.every((route) => route.runsIn in FUNCTIONS)).toBe(true);
  });

  it('is as many functions as the README says', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(readme).toContain(`deploys **${functions.length} functions**`);
    expect(readme).toContain(`(${Object.keys(FUNCTIONS).length} with \`-c jitsiSigning=rs256\``);
  });

  it('has a LICENSE that matches package.json', () => {
    const license = JSON.parse(readFileSync('package.json', 'utf8')).license;
    expect(license).toBe('MIT');
    expect(readFileSync('LICENSE', 'utf8')).toMatch(/^MIT License/);
  });
});

describe('operations', () => {
  const { template } = synth({
    ...JWT_CONTEXT,
    tracing: 'on',
    tags: 'team=video,env=prod',
    domainName: 'api.acme.org',
    certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abcd-1234',
    alarmEmail: 'ops@acme.org',
  });
  const resources = template.toJSON().Resources as Record<string, any>;
  const ofType = (type: string) => Object.values(resources).filter((resource) => resource.Type === type);

  it('alarms on every function (errors, throttles), the API (5xx, p99) and the secret and store being unavailable, all to one encrypted topic', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(functions.length * 2 + 5);
    const topics = ofType('AWS::SNS::Topic');
    expect(topics).toHaveLength(1);
    expect(topics[0].Properties.KmsMasterKeyId).toBeDefined();
    for (const alarm of alarms) expect(JSON.stringify(alarm.Properties.AlarmActions)).toContain('OperationsAlarms');
    const metrics = alarms.map((alarm) => alarm.Properties.MetricName).filter(Boolean);
    for (const name of ['Errors', 'Throttles', '5xx', 'Latency', 'SecretUnavailable', 'StoreUnavailable', 'EventsPublishFailed'])
      expect(metrics).toContain(name);
    const filters = ofType('AWS::Logs::MetricFilter');
    expect(filters).toHaveLength(functions.length * 3);
    expect(filters.map((filter) => filter.Properties.FilterPattern)).toContain('{ $.problem = "secret-unavailable" }');
    expect(filters.map((filter) => filter.Properties.FilterPattern)).toContain('{ $.event = "events-publish-failed" }');
    // Each stack counts in its own namespace: two stages in one account never set off each other's alarms.
    const namespaces = new Set([
      ...filters.flatMap((filter) =>
        filter.Properties.MetricTransformations.map((transformation: { MetricNamespace: string }) => transformation.MetricNamespace),
      ),
      ...alarms.map((alarm) => alarm.Properties.Namespace).filter((namespace: string) => namespace?.startsWith('JitsiTokenApi')),
    ]);
    expect([...namespaces]).toEqual(['JitsiTokenApi/JitsiTokenStack']);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@acme.org' });
    expect(template.toJSON().Outputs.AlarmTopicArn).toBeDefined();
  });

  it('turns on source maps always, X-Ray when asked, tags everything, and maps a custom domain', () => {
    for (const fn of ofType('AWS::Lambda::Function')) {
      expect(fn.Properties.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(fn.Properties.Tags).toEqual(
        expect.arrayContaining([
          { Key: 'team', Value: 'video' },
          { Key: 'env', Value: 'prod' },
        ]),
      );
    }
    template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', { DomainName: 'api.acme.org' });
    template.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 1);
    expect(template.toJSON().Outputs.CustomDomainTarget).toBeDefined();
    const stage = ofType('AWS::ApiGatewayV2::Stage')[0];
    expect(stage.Properties.AccessLogSettings.Format).toContain('$context.integrationErrorMessage');
  });

  it('pings each function every few minutes unless -c keepWarm=off, and refuses any other value', () => {
    const keepWarmRules = (stack: { template: { findResources(type: string): Record<string, any> } }) =>
      Object.entries(stack.template.findResources('AWS::Events::Rule'))
        .filter(([id]) => id.startsWith('KeepWarm'))
        .map(([, rule]) => rule);
    expect(keepWarmRules(synth({ ...JWT_CONTEXT, keepWarm: 'off' }))).toHaveLength(0);
    const warm = synth({ ...JWT_CONTEXT, keepWarm: 'on' });
    // On by default: it costs cents (docs/PERFORMANCE.md).
    expect(keepWarmRules({ template })).toHaveLength(1);
    expect(keepWarmRules(warm)).toHaveLength(1);
    const rule = keepWarmRules(warm)[0]!;
    expect(rule.Properties.ScheduleExpression).toBe(`rate(${KEEP_WARM_EVERY_MINUTES} minutes)`);
    expect(rule.Properties.Targets).toHaveLength(functions.length);
    for (const fn of functions) {
      const target = rule.Properties.Targets.find((candidate: { Arn: unknown }) => JSON.stringify(candidate.Arn).includes(`"${functionLogicalId(fn)}"`));
      expect(JSON.parse(target.Input)).toEqual(KEEP_WARM_PING);
      expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 0 });
    }
    // One for each function's ping, and the Prosody function's two rules (end meeting on cancel, outcomes).
    warm.template.resourcePropertiesCountIs('AWS::Lambda::Permission', { Principal: 'events.amazonaws.com' }, functions.length + 2);
    expect(warm.nagViolations).toEqual([]);
    expect(() => synth({ ...JWT_CONTEXT, keepWarm: 'yes' })).toThrow(/keepWarm must be on or off/);
  });

  it('refuses half a custom domain or bad tags', () => {
    expect(() => synth({ ...JWT_CONTEXT, domainName: 'api.acme.org' })).toThrow(/go together/);
    expect(() => synth({ ...JWT_CONTEXT, tags: 'novalue' })).toThrow(/key=value/);
  });
});

describe('telling the platform (EventBridge)', () => {
  it("creates the bus, and rules that end a cancelled appointment's meeting and tell outcomes through the Prosody function", () => {
    const { template } = jwtStack;
    template.resourceCountIs('AWS::Events::EventBus', 1);
    const rules = Object.values(template.findResources('AWS::Events::Rule'));
    const prosody = functionLogicalId(FUNCTIONS.reservationsApi);
    const onCancel = rules.find((rule) => JSON.stringify(rule.Properties.EventPattern ?? {}).includes('appointment.cancelled'))!;
    expect(onCancel.Properties.EventPattern).toEqual({ source: ['jitsi-token-api'], 'detail-type': ['appointment.cancelled'] });
    expect(JSON.stringify(onCancel.Properties.EventBusName)).toMatch(/Events/);
    expect(onCancel.Properties.Targets).toHaveLength(1);
    expect(JSON.stringify(onCancel.Properties.Targets[0].Arn)).toContain(prosody);
    expect(onCancel.Properties.Targets[0].RetryPolicy.MaximumRetryAttempts).toBe(2);
    const settle = rules.find((rule) => (rule.Properties.Targets ?? []).some((target: { Input?: string }) => target.Input?.includes('settle-outcomes')))!;
    expect(JSON.stringify(settle.Properties.Targets[0].Arn)).toContain(prosody);
    expect(settle.Properties.ScheduleExpression).toBe('rate(5 minutes)');
    // No webhook delivery unless asked for.
    template.resourceCountIs('AWS::Events::ApiDestination', 0);
    for (const output of ['EventBusName', 'EventsApiPrefix', 'EventsKeyArn']) expect(template.toJSON().Outputs[output]).toBeDefined();
  });

  it("receives Prosody's events with its key, never behind the caller authorizer (acknowledged with a reason)", () => {
    const { template } = jwtStack;
    const eventRoutes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).filter((route) =>
      String(route.Properties.RouteKey).includes('/events/'),
    );
    expect(eventRoutes.map((route) => route.Properties.RouteKey).sort()).toEqual(
      [ROUTES.roomCreatedEvent, ROUTES.roomDestroyedEvent, ROUTES.occupantJoinedEvent, ROUTES.occupantLeftEvent].map((route) => `POST ${route.path}`).sort(),
    );
    for (const route of eventRoutes) expect(route.Properties.AuthorizationType ?? 'NONE').toBe('NONE');
    expect(jwtStack.nagViolations).toEqual([]);
  });

  it('-c webhookUrl delivers every bus event through the Prosody function, which alone holds the signing secret; cdk-nag clean; only https', () => {
    const hooked = synth({ ...JWT_CONTEXT, webhookUrl: 'https://platform.example.com/hooks/jitsi' });
    const prosody = functionLogicalId(FUNCTIONS.reservationsApi);
    hooked.template.resourceCountIs('AWS::Events::ApiDestination', 0);
    const deliver = Object.values(hooked.template.findResources('AWS::Events::Rule')).find((rule) =>
      (rule.Properties.Targets ?? []).some((target: { InputTransformer?: { InputTemplate: string } }) =>
        target.InputTransformer?.InputTemplate.includes('deliver-webhook'),
      ),
    )!;
    expect(deliver.Properties.EventPattern).toEqual({ source: ['jitsi-token-api'] });
    expect(JSON.stringify(deliver.Properties.Targets[0].Arn)).toContain(prosody);
    expect(deliver.Properties.Targets[0].InputTransformer.InputPathsMap).toEqual({ detail: '$.detail' });
    // A failed job is invoked again twice, within an hour.
    hooked.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 });
    const resources = hooked.template.toJSON().Resources;
    for (const fn of functions) {
      const variables = resources[functionLogicalId(fn)].Properties.Environment.Variables;
      const delivers = fn.name === FUNCTIONS.reservationsApi.name;
      expect(variables.WEBHOOK_URL, fn.name).toBe(delivers ? 'https://platform.example.com/hooks/jitsi' : undefined);
      expect(variables.WEBHOOK_SECRET_ARN !== undefined, fn.name).toBe(delivers);
      const readsSigningSecret = grantsOf(hooked.template, fn).statements.some((statement) =>
        JSON.stringify(statement.Resource).includes('WebhookSigningSecret'),
      );
      expect(readsSigningSecret, fn.name).toBe(delivers);
    }
    expect(hooked.template.toJSON().Outputs.WebhookSecretArn).toBeDefined();
    expect(hooked.nagViolations).toEqual([]);
    expect(() => synth({ ...JWT_CONTEXT, webhookUrl: 'http://platform.example.com/hooks' })).toThrow(/webhookUrl must be an https URL/);
  });
});

describe('cdk-nag, for every documented option', () => {
  const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jitsi-AbCdEf';
  it.each<[string, Record<string, string>]>([
    ['tracing=on', { tracing: 'on' }],
    ['keepWarm=off', { keepWarm: 'off' }],
    ['bundleAwsSdk=false', { bundleAwsSdk: 'false' }],
    ['webhookUrl', { webhookUrl: 'https://platform.example.com/hooks' }],
    ['endMeetingUrl', { endMeetingUrl: 'https://meet.example.com/end-meeting-0123456789abcdef' }],
    ['secretArn', { secretArn: arn }],
    ['secretName', { secretName: 'jitsi-app-secret' }],
    ['rs256 with secretName', { jitsiSigning: 'rs256', secretName: 'jitsi-rs256' }],
    ['alarmEmail', { alarmEmail: 'ops@example.com' }],
    ['custom domain', { domainName: 'api.example.com', certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abcd-1234' }],
    ['adhocRooms=off', { adhocRooms: 'off' }],
  ])('%s: no finding', (_, options) => {
    expect(synth({ ...JWT_CONTEXT, ...options }).nagViolations).toEqual([]);
  });
});

describe('context the stack does not read', () => {
  it('refuses an unknown -c key (a typo) with the list of the keys it reads', () => {
    expect(() => synth({ ...JWT_CONTEXT, jitsiDomian: 'meet.example.com' })).toThrow(/unknown context -c jitsiDomian; the stack reads: .*jitsiDomain/);
    // CDK's own keys pass.
    expect(() => synth({ ...JWT_CONTEXT, 'cli-telemetry': false, '@aws-cdk/core:newStyleStackSynthesis': true })).not.toThrow();
  });

  it('warns loudly when deployed without caller authentication', () => {
    const { stack } = synth({ auth: 'none' });
    const warnings = stack.node.metadata.filter((entry) => entry.type === 'aws:cdk:warning').map((entry) => String(entry.data));
    expect(warnings.some((warning) => /WITHOUT CALLER AUTHENTICATION/.test(warning))).toBe(true);
  });
});
