// Template assertions on the synthesised stack (no bundling) and cdk-nag AwsSolutions.
import { readFileSync } from 'node:fs';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { deployedRoutes, routesDeployedWith } from '../../lib/routes.ts';

/** The default deployment signs with HS256: the RS256 keys function is not in it. */
const routes = routesDeployedWith('hs256');
import { functionLogicalId } from '../../infra/token-function.ts';
import { AUTH_CONTEXT_HELP } from '../../infra/stack-settings.ts';
import { JWT_CONTEXT, synth } from '../helpers/synth.ts';

const jwtStack = synth(JWT_CONTEXT);
const noneStack = synth({ auth: 'none' });

function resourcesOf(template: ReturnType<typeof synth>['template'], type: string): Record<string, any> {
  return template.findResources(type);
}

describe('JitsiTokenStack', () => {
  it('has one route, function and integration per route of the table, each behind the JWT authorizer unless public', () => {
    const { template } = jwtStack;
    template.resourceCountIs('AWS::Lambda::Function', routes.length);
    template.resourceCountIs('AWS::ApiGatewayV2::Route', routes.length);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: 'https://issuer.example', Audience: ['app-client'] },
    });
    for (const route of routes) {
      if (route.caller !== 'required')
        template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: `${route.method} ${route.path}`, AuthorizationType: 'NONE' });
      else
        template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
          RouteKey: `${route.method} ${route.path}`,
          AuthorizationType: 'JWT',
          AuthorizerId: Match.anyValue(),
        });
      const fn = template.toJSON().Resources[functionLogicalId(route)];
      expect(fn?.Type).toBe('AWS::Lambda::Function');
    }
  });

  it('configures each function: nodejs24.x on arm64, 256 MB, 10 s, JSON logs to its own log group, settings from context', () => {
    const functions = Object.values(resourcesOf(jwtStack.template, 'AWS::Lambda::Function'));
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], MemorySize: 256, Timeout: 10, Handler: 'index.handler' });
      expect(fn.Properties.LoggingConfig).toMatchObject({ LogFormat: 'JSON', LogGroup: { Ref: expect.any(String) } });
      expect(fn.Properties.Environment.Variables).toMatchObject({
        AUTH_MODE: 'jwt',
        JITSI_DOMAIN: 'meet.acme.org',
        JITSI_APP_ID: 'acme',
        JITSI_SUB: 'meet.jitsi',
        MODERATOR_CLAIM: 'cognito:groups',
        MODERATOR_VALUES: 'therapists',
        CORS_ORIGINS: 'https://app.acme.org',
        JITSI_SECRET_ARN: { Ref: expect.any(String) },
      });
      expect(fn.Properties.Environment.Variables).not.toHaveProperty('JITSI_APP_SECRET');
    }
    const logGroups = Object.values(resourcesOf(jwtStack.template, 'AWS::Logs::LogGroup'));
    expect(logGroups).toHaveLength(routes.length + 1);
    for (const group of logGroups) expect(group.Properties.RetentionInDays).toBe(30);
  });

  it("grants each function only log writes to its own group, reading the one secret, and exactly its row's table actions", () => {
    const policies = Object.values(resourcesOf(jwtStack.template, 'AWS::IAM::Policy'));
    expect(policies).toHaveLength(routes.length);
    const resources = jwtStack.template.toJSON().Resources;
    for (const route of routes) {
      const roleId = resources[functionLogicalId(route)].Properties.Role['Fn::GetAtt'][0];
      const policy = policies.find((candidate) => candidate.Properties.Roles.some((role: { Ref: string }) => role.Ref === roleId))!;
      const statements = policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>;
      const actions = statements.flatMap((statement) => [statement.Action].flat()).sort();
      // The reservation API's functions also read Prosody's key (its own statement, on that secret only).
      const keyRead = route.caller === 'prosody' ? ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'] : [];
      expect(actions).toEqual(
        ['logs:CreateLogStream', 'logs:PutLogEvents', 'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', ...keyRead, ...route.store].sort(),
      );
      const keyStatements = statements.filter((statement) => JSON.stringify(statement.Resource).includes('ReservationsKey'));
      expect(keyStatements.length > 0).toBe(route.caller === 'prosody');
      expect(resources[functionLogicalId(route)].Properties.Environment.Variables.RESERVATIONS_KEY_ARN !== undefined).toBe(route.caller === 'prosody');
      for (const statement of statements) expect(JSON.stringify(statement.Resource)).not.toBe('"*"');
      const secretStatement = statements.find(
        (statement) => [statement.Action].flat().includes('secretsmanager:GetSecretValue') && !JSON.stringify(statement.Resource).includes('ReservationsKey'),
      );
      expect(secretStatement?.Resource).toEqual({ Ref: expect.stringMatching(/^AppSecret/) });
      const tableStatement = statements.find((statement) => [statement.Action].flat().some((action) => action.startsWith('dynamodb:')));
      if (route.store.length === 0) expect(tableStatement).toBeUndefined();
      else expect(JSON.stringify(tableStatement?.Resource)).toMatch(/^\[?\{"Fn::GetAtt":\["Appointments[0-9A-F]+","Arn"\]\}/);
    }
    // No function may do to the table what none of its routes needs.
    expect(routes.filter((route) => route.store.includes('dynamodb:Query')).map((route) => route.name)).toEqual(['appointment-audit']);
    for (const role of Object.values(resourcesOf(jwtStack.template, 'AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
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
    // Only the reservation key is generated then; the app secret is the imported one.
    imported.template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    imported.template.hasResourceProperties('AWS::SecretsManager::Secret', { Description: Match.stringLikeRegexp('Prosody') });
    const fn = Object.values(resourcesOf(imported.template, 'AWS::Lambda::Function'))[0];
    expect(fn.Properties.Environment.Variables.JITSI_SECRET_ARN).toBe(arn);
    expect(imported.nagViolations).toEqual([]);
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
    const invoked = [...readme.matchAll(/sam local invoke (\w+) .*?-e (events\/[\w-]+\.json)/gs)].map((match) => [match[1]!, match[2]!] as const);
    expect(invoked.length).toBeGreaterThanOrEqual(3);
    const resources = noneStack.template.toJSON().Resources;
    for (const [logicalId, eventFile] of invoked) {
      expect(resources[logicalId]?.Type, logicalId).toBe('AWS::Lambda::Function');
      expect(() => readFileSync(eventFile)).not.toThrow();
    }
  });

  it('declares every variable of events/env.json on every function, so sam local applies them', () => {
    const envFile = JSON.parse(readFileSync('events/env.json', 'utf8')) as Record<string, Record<string, string>>;
    const resources = noneStack.template.toJSON().Resources;
    for (const route of routes) {
      const declared = Object.keys(resources[functionLogicalId(route)].Properties.Environment.Variables);
      for (const [scope, variables] of Object.entries(envFile)) {
        if (scope !== 'Parameters' && scope !== functionLogicalId(route)) continue;
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
    imported.template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    expect(imported.nagViolations).toEqual([]);
  });

  it('grants kms:Decrypt on the key of an imported secret to every function that reads it', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const imported = synth({ ...JWT_CONTEXT, secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jitsi-AbCdEf', secretKmsKeyArn: keyArn });
    const policies = Object.values(imported.template.findResources('AWS::IAM::Policy'));
    expect(policies).toHaveLength(routes.length);
    for (const policy of policies) {
      const decrypt = policy.Properties.PolicyDocument.Statement.find((statement: { Action: string | string[] }) =>
        [statement.Action].flat().includes('kms:Decrypt'),
      );
      expect(decrypt?.Resource).toBe(keyArn);
    }
    expect(imported.nagViolations).toEqual([]);
    expect(() => synth({ ...JWT_CONTEXT, secretKmsKeyArn: keyArn })).toThrow(/goes with an imported secret/);
    expect(() => synth({ ...JWT_CONTEXT, secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf', secretKmsKeyArn: 'alias/mine' })).toThrow(
      /ARN of a KMS key/,
    );
  });
});

describe('the functions a deployment has', () => {
  it('deploys the RS256 keys function only in RS256 mode', () => {
    const rs256 = synth({ ...JWT_CONTEXT, jitsiSigning: 'rs256', secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jitsi-rs256-AbCdEf' });
    rs256.template.resourceCountIs('AWS::Lambda::Function', deployedRoutes.length);
    expect(routes.length).toBe(deployedRoutes.length - 1);
    expect(routes.some((route) => route.onlyWithSigning !== undefined)).toBe(false);
  });

  it('is as many functions as the README says', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(readme).toContain(`deploys **${routes.length} functions**`);
    expect(readme).toContain(`(${deployedRoutes.length} with \`-c jitsiSigning=rs256\``);
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
    expect(alarms).toHaveLength(routes.length * 2 + 4);
    const topics = ofType('AWS::SNS::Topic');
    expect(topics).toHaveLength(1);
    expect(topics[0].Properties.KmsMasterKeyId).toBeDefined();
    for (const alarm of alarms) expect(JSON.stringify(alarm.Properties.AlarmActions)).toContain('OperationsAlarms');
    const metrics = alarms.map((alarm) => alarm.Properties.MetricName).filter(Boolean);
    for (const name of ['Errors', 'Throttles', '5xx', 'Latency', 'SecretUnavailable', 'StoreUnavailable']) expect(metrics).toContain(name);
    const filters = ofType('AWS::Logs::MetricFilter');
    expect(filters).toHaveLength(routes.length * 2);
    expect(filters.map((filter) => filter.Properties.FilterPattern)).toContain('{ $.problem = "secret-unavailable" }');
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

  it('refuses half a custom domain or bad tags', () => {
    expect(() => synth({ ...JWT_CONTEXT, domainName: 'api.acme.org' })).toThrow(/go together/);
    expect(() => synth({ ...JWT_CONTEXT, tags: 'novalue' })).toThrow(/key=value/);
  });
});
