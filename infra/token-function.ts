// The defaults every handler function shares, so the stack only says what differs per route.
import { AssetHashType, DockerImage, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Code, Function as LambdaFunction, LoggingFormat, Runtime, Tracing, type CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleFunction, LAMBDA_HANDLER, type BundlePolicy } from './bundling.ts';
import { SETTINGS } from '#lib/config';
import type { FunctionDefinition, RouteDefinition, StoreAction } from '#lib/routes';

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A stable CloudFormation logical id (CallerApiFunction), so sam local commands can name it. */
export const functionLogicalId = (fn: Pick<FunctionDefinition, 'name'>): string =>
  `${fn.name.replace(/(^|-)([a-z])/g, (_, __, letter: string) => letter.toUpperCase())}Function`;

export interface TokenFunctionProps extends BundlePolicy {
  fn: FunctionDefinition;
  /** The routes it runs in this deployment: its grants are the union of theirs. */
  routes: readonly RouteDefinition[];
  /** The app secret, for a function that signs (readsAppSecret): no other function may read it. */
  secret?: ISecret | undefined;
  /**
   * How the function asks Secrets Manager for it: the name when the deployer gave one. The partial
   * ARN CDK builds from a name is misread as a complete ARN when the name ends in "-" + 6 characters.
   */
  secretId?: string;
  /** The appointments table: granted exactly `storeActions`, and named only to a function granted some. */
  table: ITable;
  /** Its routes' table actions, and what publishing an RS256 public key takes (routes.ts storeActionsOf). */
  storeActions: readonly StoreAction[];
  /** Prosody's reservation key, for the reservation API's function only. */
  reservationKey?: ISecret;
  /** Prosody's event sync key, for the function that receives its events only. */
  eventsKey?: ISecret;
  /** The bus it tells the platform on (events:PutEvents on it alone), for the functions that record decisions. */
  eventBus?: IEventBus;
  /** For the function that delivers the bus's events as webhooks: where, and the secret it signs with. */
  webhook?: { url: string; signingSecret: ISecret };
  /** The customer-managed KMS key an imported app secret is encrypted with. */
  secretKey?: IKey;
  /** X-Ray active tracing. */
  tracing?: boolean;
  environment: Record<string, string>;
  logRetentionDays: number;
}

export class TokenFunction extends Construct {
  readonly function: LambdaFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: TokenFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetentionDays, removalPolicy: RemovalPolicy.DESTROY });
    // An own role with exactly log writes on this log group (no AWS managed policy).
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${props.fn.name}: ${props.routes.map((route) => route.name).join(', ')}`,
    });
    this.logGroup.grantWrite(role);
    const entry = props.fn.entry;
    this.function = new LambdaFunction(this, 'Function', {
      // Bundled here with infra/bundling.ts (what the bench measures), hashed by its output. The
      // image is never pulled: esbuild is a dependency of this project, so local bundling runs.
      code: Code.fromAsset(PROJECT_ROOT, {
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs24.x'),
          // CDK reuses a bundle made from the same source path and bundling options within a
          // synth: naming what is bundled here keeps each function's bundle its own.
          environment: { FUNCTION_ENTRY: entry, BUNDLE_AWS_SDK: String(props.bundleAwsSdk) },
          local: {
            tryBundle(outputDir) {
              bundleFunction(join(PROJECT_ROOT, entry), outputDir, props);
              return true;
            },
          },
        },
      }),
      handler: LAMBDA_HANDLER,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.fn.memoryMb,
      timeout: Duration.seconds(10),
      role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      description: props.fn.summary,
      ...(props.tracing ? { tracing: Tracing.ACTIVE } : {}),
      environment: {
        // Stack frames in logged errors point at the TypeScript source, through the bundle's source map.
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
        ...(props.secret ? { [SETTINGS.secretArn.variable]: props.secretId ?? props.secret.secretArn } : {}),
        ...(props.storeActions.length > 0 ? { [SETTINGS.appointmentsTable.variable]: props.table.tableName } : {}),
        ...(props.reservationKey ? { [SETTINGS.reservationsKeyArn.variable]: props.reservationKey.secretArn } : {}),
        ...(props.eventsKey ? { [SETTINGS.eventsKeyArn.variable]: props.eventsKey.secretArn } : {}),
        ...(props.eventBus ? { [SETTINGS.eventBusName.variable]: props.eventBus.eventBusName } : {}),
        ...(props.webhook
          ? { [SETTINGS.webhookUrl.variable]: props.webhook.url, [SETTINGS.webhookSecretArn.variable]: props.webhook.signingSecret.secretArn }
          : {}),
      },
    });
    props.secret?.grantRead(this.function);
    props.reservationKey?.grantRead(this.function);
    props.eventsKey?.grantRead(this.function);
    props.eventBus?.grantPutEventsTo(this.function);
    props.webhook?.signingSecret.grantRead(this.function);
    // Reading a secret encrypted with a customer-managed key also needs kms:Decrypt on that key.
    if (props.secret) props.secretKey?.grantDecrypt(this.function);
    // Least privilege: exactly the table actions its routes' rows name, and none when they name none.
    if (props.storeActions.length > 0 && props.fn.tablePartitions === undefined) props.table.grant(this.function, ...props.storeActions);
    if (props.storeActions.length > 0 && props.fn.tablePartitions !== undefined) {
      // Only the partitions it names: its routes read nothing else, and a bug there reaches nothing else.
      this.function.addToRolePolicy(
        new PolicyStatement({
          actions: [...props.storeActions],
          resources: [props.table.tableArn],
          conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [...props.fn.tablePartitions] } },
        }),
      );
    }
    if (props.tracing) {
      // Lambda's X-Ray grant (PutTraceSegments, PutTelemetryRecords) has no resource to scope to.
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray tracing (-c tracing=on): xray:PutTraceSegments and xray:PutTelemetryRecords take no resource ARN, so AWS grants them on "*".',
      });
    }
    // A stable logical id, so `sam local invoke CallerApiFunction` works.
    (this.function.node.defaultChild as CfnFunction).overrideLogicalId(functionLogicalId(props.fn));
  }
}
