// JitsiTokenStack: the HTTP API, the functions of the route table (FUNCTIONS, each with its routes), the app secret and the appointments table.
import { CfnOutput, Duration, RemovalPolicy, Stack, Tags, Validations, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { CorsHttpMethod, DomainName, HttpApi, HttpMethod, HttpStage, LogGroupLogDestination, type IHttpRouteAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Key, type IKey } from 'aws-cdk-lib/aws-kms';
import { EventBus, EventField, Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { TABLE_SCHEMA } from '#lib/store';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { CORS_ALLOWED_HEADERS, CORS_EXPOSED_HEADERS, CORS_MAX_AGE_SECONDS } from '#lib/cors';
import {
  EVENTS_API_PREFIX,
  FUNCTIONS,
  functionsDeployedWith,
  KEEP_WARM_EVERY_MINUTES,
  KEEP_WARM_PING,
  publishesEvents,
  readsAppSecret,
  readsEventsKey,
  readsReservationKey,
  RESERVATIONS_API_PREFIX,
  routesDeployedWith,
  routesOf,
  storeActionsOf,
} from '#lib/routes';
import { DELIVER_WEBHOOK, JOB_MARKER, SETTLE_OUTCOMES } from '#lib/jobs';
import { EVENT_SOURCE } from '#lib/platform-events';
import { SETTINGS } from '#lib/config';
import type { StackSettings } from './stack-settings.ts';
import { Operations } from './operations.ts';
import { TokenFunction } from './token-function.ts';

/** Why a route has no caller JWT authorizer, for cdk-nag. */
const NO_CALLER_JWT = {
  public:
    "No caller token by design: the RS256 public keys Prosody's asap_key_server fetches without credentials, and the join-link exchange, where the single-use code is the credential.",
  prosody:
    "Called by Prosody's reservation module or its event sync component, which authenticate with a static bearer key from Secrets Manager (checked in constant time by the function), not a user's OIDC token.",
} as const;

/** How often the Prosody function tells the outcomes of sessions whose window has closed. */
const SETTLE_OUTCOMES_EVERY_MINUTES = 5;

export interface JitsiTokenStackProps extends StackProps {
  settings: StackSettings;
}

export class JitsiTokenStack extends Stack {
  readonly api: HttpApi;
  readonly secret: ISecret;
  readonly table: Table;
  readonly reservationKey: Secret;
  readonly eventsKey: Secret;
  /** Where the functions tell the platform what was decided and who attended. */
  readonly eventBus: EventBus;
  /** The customer-managed key of an imported app secret, if any. */
  readonly secretKey: IKey | undefined;
  readonly functions: TokenFunction[];

  constructor(scope: Construct, id: string, props: JitsiTokenStackProps) {
    super(scope, id, props);
    const { settings } = props;
    for (const warning of settings.warnings) Validations.of(this).addWarning('jitsi-token-api:settings', warning);

    this.secret = this.appSecret(settings);
    this.secretKey = settings.secretKmsKeyArn === undefined ? undefined : Key.fromKeyArn(this, 'AppSecretKey', settings.secretKmsKeyArn);
    this.table = this.appointmentsTable();
    const heldByProsody =
      'Prosody holds this key in its configuration: a rotation is a coordinated change of both (README: the Prosody recipe), not an automatic one.';
    this.reservationKey = this.generatedSecret(
      'ReservationsKey',
      "The bearer key Prosody's reservation module sends (reservations_api_headers); read it with aws secretsmanager get-secret-value",
      64,
      heldByProsody,
    );
    this.eventsKey = this.generatedSecret(
      'EventsKey',
      "The bearer key Prosody's event sync component sends (api_headers); read it with aws secretsmanager get-secret-value",
      64,
      heldByProsody,
    );
    this.eventBus = new EventBus(this, 'Events', { description: 'jitsi-token-api: appointment decisions, tokens issued and attendance (ids and times only)' });
    const webhookSecret = settings.webhookUrl === undefined ? undefined : this.webhookSigningSecret();

    this.api = new HttpApi(this, 'Api', {
      description: 'jitsi-token-api: Jitsi Meet tokens for a web app',
      createDefaultStage: false,
      corsPreflight:
        settings.corsOrigins.length === 0
          ? undefined
          : {
              allowOrigins: settings.corsOrigins,
              allowMethods: [CorsHttpMethod.POST, CorsHttpMethod.GET, CorsHttpMethod.PATCH, CorsHttpMethod.DELETE],
              allowHeaders: [...CORS_ALLOWED_HEADERS],
              exposeHeaders: [...CORS_EXPOSED_HEADERS],
              maxAge: Duration.seconds(CORS_MAX_AGE_SECONDS),
            },
    });

    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: settings.logRetentionDays, removalPolicy: RemovalPolicy.DESTROY });
    const customDomain = settings.customDomain
      ? new DomainName(this, 'CustomDomain', {
          domainName: settings.customDomain.domainName,
          certificate: Certificate.fromCertificateArn(this, 'CustomDomainCertificate', settings.customDomain.certificateArn),
        })
      : undefined;
    if (customDomain) {
      new CfnOutput(this, 'CustomDomainTarget', {
        value: customDomain.regionalDomainName,
        description: `Point ${settings.customDomain!.domainName} here (a CNAME or an alias record)`,
      });
    }
    new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      ...(customDomain ? { domainMapping: { domainName: customDomain } } : {}),
      autoDeploy: true,
      throttle: { rateLimit: settings.throttleRateLimit, burstLimit: settings.throttleBurstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        // Who called and how it went; never a body, a header value or a token.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            authorizerError: '$context.authorizer.error',
            integrationError: '$context.integrationErrorMessage',
            caller: '$context.authorizer.claims.sub',
          }),
        ),
      },
    });

    // Public routes (Prosody calls them) are open in every mode.
    const authorizer: IHttpRouteAuthorizer | undefined =
      settings.auth.mode === 'jwt' ? new HttpJwtAuthorizer('CallerJwt', settings.auth.issuer, { jwtAudience: [settings.auth.audience] }) : undefined;
    if (settings.auth.mode === 'none') {
      // Loud at every synth and deploy: an open token mint, on purpose or by mistake.
      Validations.of(this).addWarning(
        'jitsi-token-api:auth-none',
        'DEPLOYED WITHOUT CALLER AUTHENTICATION (-c auth=none): anyone who can reach this API can mint Jitsi tokens for any room and identity. For trials and sam local only.',
      );
      Validations.of(this.api).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: 'Deployed with -c auth=none on purpose (sam local and trials): the README says anyone who can reach it can mint tokens.',
      });
    }
    // sam local overrides only variables the template declares: give it slots for the secrets.
    // In Lambda an empty value counts as unset, and a non-empty one stops start-up.
    const environment =
      settings.auth.mode === 'none'
        ? {
            ...settings.functionEnvironment,
            [SETTINGS.appSecret.variable]: '',
            [SETTINGS.reservationsApiKey.variable]: '',
            [SETTINGS.eventsApiKey.variable]: '',
            [SETTINGS.appointmentsEndpoint.variable]: '',
          }
        : settings.functionEnvironment;

    const signing = settings.functionEnvironment[SETTINGS.signing.variable]?.toLowerCase() ?? 'hs256';
    const deployed = routesDeployedWith(signing);
    const endsMeetings = settings.functionEnvironment[SETTINGS.endMeetingUrl.variable] !== undefined;
    this.functions = functionsDeployedWith(signing).map((fn) => {
      const routes = routesOf(fn, deployed);
      // Only a function that signs reads the app secret; in RS256 it also publishes its public key.
      const signs = readsAppSecret(fn, routes, { endsMeetings });
      const tokenFunction = new TokenFunction(this, fn.name, {
        fn,
        routes,
        ...(signs ? { secret: this.secret } : {}),
        ...(signs && settings.secretName !== undefined ? { secretId: settings.secretName } : {}),
        table: this.table,
        storeActions: storeActionsOf(routes, signs && signing === 'rs256'),
        ...(this.secretKey ? { secretKey: this.secretKey } : {}),
        // Only the function of Prosody's routes may read Prosody's keys; only functions that record decisions publish.
        ...(readsReservationKey(routes) ? { reservationKey: this.reservationKey } : {}),
        ...(readsEventsKey(routes) ? { eventsKey: this.eventsKey } : {}),
        ...(publishesEvents(routes) ? { eventBus: this.eventBus } : {}),
        // Only the Prosody function delivers webhooks (the rule below invokes it with each bus event).
        ...(fn.name === FUNCTIONS.reservationsApi.name && webhookSecret && settings.webhookUrl
          ? { webhook: { url: settings.webhookUrl, signingSecret: webhookSecret } }
          : {}),
        environment,
        logRetentionDays: settings.logRetentionDays,
        bundleAwsSdk: settings.bundleAwsSdk,
        tracing: settings.tracing,
      });
      const integration = new HttpLambdaIntegration(`${fn.name}-integration`, tokenFunction.function);
      for (const route of routes) {
        const httpRoutes = this.api.addRoutes({
          path: route.path,
          methods: [HttpMethod[route.method]],
          integration,
          ...(authorizer && route.caller === 'required' ? { authorizer } : {}),
        });
        if (route.caller !== 'required') {
          for (const httpRoute of httpRoutes) Validations.of(httpRoute).acknowledge({ id: 'AwsSolutions-APIG4', reason: NO_CALLER_JWT[route.caller] });
        }
      }
      return tokenFunction;
    });
    if (settings.keepWarm) {
      // A ping every few minutes keeps one environment of each function alive (docs/PERFORMANCE.md).
      new Rule(this, 'KeepWarm', {
        description: `Keeps one environment of each function warm (-c keepWarm=off removes it): a ping every ${KEEP_WARM_EVERY_MINUTES} minutes`,
        schedule: Schedule.rate(Duration.minutes(KEEP_WARM_EVERY_MINUTES)),
        targets: this.functions.map(
          (tokenFunction) => new LambdaFunction(tokenFunction.function, { event: RuleTargetInput.fromObject(KEEP_WARM_PING), retryAttempts: 0 }),
        ),
      });
    }

    // The Prosody function's jobs: end a cancelled appointment's meeting, tell the outcomes of closed windows.
    const prosodyFunction = this.functions.find((tokenFunction) => tokenFunction.node.id === FUNCTIONS.reservationsApi.name)!.function;
    // A job that throws is invoked again twice, within an hour (then it is dropped; its failure is logged and on the trail).
    prosodyFunction.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(1) });
    new Rule(this, 'EndMeetingOnCancel', {
      description: `Ends a cancelled appointment's meeting in Jitsi (when ${SETTINGS.endMeetingUrl.variable} is set)`,
      eventBus: this.eventBus,
      eventPattern: { source: [EVENT_SOURCE], detailType: ['appointment.cancelled'] },
      targets: [new LambdaFunction(prosodyFunction, { retryAttempts: 2, maxEventAge: Duration.hours(1) })],
    });
    if (webhookSecret) {
      new Rule(this, 'DeliverWebhooks', {
        description: 'Every platform event to the Prosody function, which delivers it to -c webhookUrl as a signed webhook',
        eventBus: this.eventBus,
        eventPattern: { source: [EVENT_SOURCE] },
        targets: [
          new LambdaFunction(prosodyFunction, {
            event: RuleTargetInput.fromObject({ [JOB_MARKER]: DELIVER_WEBHOOK, event: EventField.fromPath('$.detail') }),
            retryAttempts: 2,
            maxEventAge: Duration.hours(1),
          }),
        ],
      });
      new CfnOutput(this, 'WebhookSecretArn', {
        value: webhookSecret.secretArn,
        description: "The platform verifies webhooks with whsec_ + the base64 of this secret's value (Standard Webhooks)",
      });
    }
    new Rule(this, 'SettleOutcomes', {
      description: `Tells the platform the outcome of each session whose window has closed (every ${SETTLE_OUTCOMES_EVERY_MINUTES} minutes)`,
      schedule: Schedule.rate(Duration.minutes(SETTLE_OUTCOMES_EVERY_MINUTES)),
      targets: [new LambdaFunction(prosodyFunction, { event: RuleTargetInput.fromObject(SETTLE_OUTCOMES), retryAttempts: 0 })],
    });

    const operations = new Operations(this, 'Operations', { api: this.api, functions: this.functions, alarmEmail: settings.alarmEmail });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: operations.topic.topicArn,
      description: 'Alarms (function errors and throttles, API 5xx and p99 latency, secret or store unavailable): subscribe here',
    });
    for (const [key, value] of Object.entries(settings.tags)) Tags.of(this).add(key, value);
    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint, description: 'Base URL of the API: point the front end (REACT_APP_BACKEND_URL) here' });
    new CfnOutput(this, 'SecretArn', { value: this.secret.secretArn, description: 'Put the Jitsi app_secret here (aws secretsmanager put-secret-value)' });
    new CfnOutput(this, 'AppointmentsTable', { value: this.table.tableName, description: 'The appointments table (kept when the stack is deleted)' });
    new CfnOutput(this, 'ReservationsApiPrefix', {
      value: `${this.api.apiEndpoint}${RESERVATIONS_API_PREFIX}`,
      description: 'Prosody: reservations_api_prefix',
    });
    new CfnOutput(this, 'ReservationsKeyArn', {
      value: this.reservationKey.secretArn,
      description: 'Prosody: the key for reservations_api_headers (aws secretsmanager get-secret-value --secret-id <this> --query SecretString)',
    });
    new CfnOutput(this, 'EventsApiPrefix', { value: `${this.api.apiEndpoint}${EVENTS_API_PREFIX}`, description: "Prosody's event sync component: api_prefix" });
    new CfnOutput(this, 'EventsKeyArn', {
      value: this.eventsKey.secretArn,
      description: "Prosody's event sync component: the key for api_headers (aws secretsmanager get-secret-value --secret-id <this> --query SecretString)",
    });
    new CfnOutput(this, 'EventBusName', {
      value: this.eventBus.eventBusName,
      description: 'EventBridge bus with the platform events (source jitsi-token-api)',
    });
  }

  /** -c webhookUrl: the secret the Prosody function signs webhooks with (the platform verifies with whsec_ + its base64). */
  private webhookSigningSecret(): Secret {
    return this.generatedSecret(
      'WebhookSigningSecret',
      'Signs the webhooks delivered to the platform (Standard Webhooks: the key is the base64 of this value)',
      48,
      'The platform holds this value to verify webhooks: a rotation is a coordinated change on both sides (README: webhooks), not an automatic one.',
    );
  }

  /**
   * A random secret the stack generates and keeps when it is deleted. Each is shared with another
   * system (Prosody, the platform), so no automatic rotation: `whyNoRotation` says who holds it.
   */
  private generatedSecret(id: string, description: string, passwordLength: number, whyNoRotation: string): Secret {
    const secret = new Secret(this, id, {
      description,
      generateSecretString: { passwordLength, excludePunctuation: true, includeSpace: false },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: whyNoRotation });
    return secret;
  }

  /**
   * Appointments, room pointers and audit records: on demand, point-in-time recovery, encrypted,
   * expired by TTL after the retention period, and kept when the stack is deleted (it is the
   * audit trail).
   */
  private appointmentsTable(): Table {
    return new Table(this, 'Appointments', {
      partitionKey: { name: TABLE_SCHEMA.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: TABLE_SCHEMA.ttlAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
      deletionProtection: true,
    });
  }

  private appSecret(settings: StackSettings): ISecret {
    if (settings.secretArn !== undefined) {
      // A complete ARN ends in -XXXXXX; a partial one (or a name) gets a wildcard suffix in IAM.
      return /-[A-Za-z0-9]{6}$/.test(settings.secretArn)
        ? Secret.fromSecretCompleteArn(this, 'AppSecret', settings.secretArn)
        : Secret.fromSecretPartialArn(this, 'AppSecret', settings.secretArn);
    }
    if (settings.secretName !== undefined) return Secret.fromSecretNameV2(this, 'AppSecret', settings.secretName);
    return this.generatedSecret(
      'AppSecret',
      'Jitsi app_secret used to sign meeting tokens (the same value as Prosody app_secret)',
      64,
      'Prosody accepts one app_secret, so rotation is a coordinated manual change (README: rotation runbook); an automatic rotation would lock every caller out of Jitsi.',
    );
  }
}
