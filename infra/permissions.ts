// What each deployed function may do, read from synthesized templates (not from the code that
// grants it): docs/SECURITY.md's function × permission table is made here, and a test compares
// it with the document, so the document cannot drift from the template.
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FUNCTIONS, type FunctionDefinition } from '#lib/routes';
import { JitsiTokenStack } from './stack.ts';
import { readStackSettings } from './stack-settings.ts';
import { functionLogicalId } from './token-function.ts';

/** The deployments the table covers: the default, and each option that changes a grant. */
export const PERMISSION_DEPLOYMENTS = [
  { label: 'default', context: {} },
  {
    label: '`-c jitsiSigning=rs256`',
    context: { jitsiSigning: 'rs256', secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jitsi-rs256-AbCdEf' },
  },
  { label: '`-c endMeetingUrl`', context: { endMeetingUrl: 'https://meet.example.org/end-meeting' } },
  { label: '`-c webhookUrl`', context: { webhookUrl: 'https://platform.example.org/webhooks/jitsi' } },
  {
    label: '`-c secretKmsKeyArn`',
    context: {
      secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jitsi-AbCdEf',
      secretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    },
  },
] as const;

const BASE_CONTEXT = { authIssuer: 'https://issuer.example.org', authAudience: 'app-client', jitsiAppId: 'example' };

/** The columns, in order: what a grant's resource is, by the logical id or ARN it names. */
const SECRET_COLUMNS = [
  { heading: 'app secret (the signing key)', matches: /AppSecret|:secret:jitsi-/ },
  { heading: "Prosody's reservation key", matches: /ReservationsKey/ },
  { heading: "Prosody's event sync key", matches: /EventsKey/ },
  { heading: 'webhook signing secret', matches: /WebhookSigningSecret/ },
] as const;

export type PolicyStatement = { Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, string[]>> };
export type FunctionPermissions = ReadonlySet<string>;

/** The statements of a function's own role policy in a template (undefined: the template has no such function). */
export function policyStatementsOf(template: Record<string, any>, fn: FunctionDefinition): PolicyStatement[] | undefined {
  const resources = template.Resources as Record<string, any>;
  const lambda = resources[functionLogicalId(fn)];
  if (lambda === undefined) return undefined;
  const roleId = lambda.Properties.Role['Fn::GetAtt'][0];
  const policy = Object.values(resources).find(
    (resource) => resource.Type === 'AWS::IAM::Policy' && resource.Properties.Roles.some((role: { Ref: string }) => role.Ref === roleId),
  );
  return policy?.Properties.PolicyDocument.Statement ?? [];
}

/** A function's permissions in one template, as `secret:<column>`, `dynamodb:<Action>`, `events:PutEvents`, `kms:Decrypt`. */
export function permissionsOf(template: Record<string, any>, fn: FunctionDefinition): FunctionPermissions | undefined {
  const statements = policyStatementsOf(template, fn);
  if (statements === undefined) return undefined;
  const found = new Set<string>();
  for (const statement of statements) {
    const actions = [statement.Action].flat();
    const resource = JSON.stringify(statement.Resource);
    if (actions.includes('secretsmanager:GetSecretValue')) {
      const column = SECRET_COLUMNS.find((candidate) => candidate.matches.test(resource));
      // A grant the table has no column for must not pass unseen.
      if (column === undefined) throw new Error(`${fn.name} reads a secret the permissions table has no column for: ${resource}`);
      found.add(`secret:${column.heading}`);
    }
    const partitions = statement.Condition?.['ForAllValues:StringEquals']?.['dynamodb:LeadingKeys'];
    for (const action of actions) {
      if (/^(logs|xray):/.test(action) || /^secretsmanager:(GetSecretValue|DescribeSecret)$/.test(action)) continue;
      if (!/^(dynamodb|events|kms):/.test(action)) throw new Error(`${fn.name} is granted ${action}, which the permissions table does not show`);
      found.add(partitions === undefined || !action.startsWith('dynamodb:') ? action : `${action} (partition ${partitions.join(', ')} only)`);
    }
  }
  return found;
}

/** Synthesizes each deployment (no bundling) and reads every function's permissions. */
export function readDeployments(): { label: string; permissions: Map<FunctionDefinition, FunctionPermissions> }[] {
  const outdir = mkdtempSync(join(tmpdir(), 'permissions-'));
  try {
    return PERMISSION_DEPLOYMENTS.map(({ label, context }, index) => {
      const app = new App({ outdir: join(outdir, String(index)), context: { ...BASE_CONTEXT, ...context, 'aws:cdk:bundling-stacks': [] } });
      const stack = new JitsiTokenStack(app, 'JitsiTokenStack', { settings: readStackSettings(app.node) });
      const template = Template.fromStack(stack).toJSON();
      const permissions = new Map<FunctionDefinition, FunctionPermissions>();
      for (const fn of Object.values(FUNCTIONS)) {
        const found = permissionsOf(template, fn);
        if (found) permissions.set(fn, found);
      }
      return { label, permissions };
    });
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** One cell: granted in every deployment that has the function, in some (naming them), or in none (—). */
function cell(grantedIn: readonly string[], deployedIn: readonly string[], granted: string): string {
  if (grantedIn.length === 0) return '—';
  if (grantedIn.length === deployedIn.length) return granted;
  return `${granted} with ${grantedIn.join(', ')}`;
}

/** The markdown table: one row per function, one column per secret, the table actions, the bus and the KMS key. */
export function permissionsTableMarkdown(deployments = readDeployments()): string {
  const header = ['function', ...SECRET_COLUMNS.map((column) => column.heading), 'appointments table', 'event bus', 'KMS key of an imported secret'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const fn of Object.values(FUNCTIONS)) {
    const present = deployments.filter((deployment) => deployment.permissions.has(fn));
    const deployedIn = present.map((deployment) => deployment.label);
    const grantedIn = (permission: string) =>
      present.filter((deployment) => deployment.permissions.get(fn)!.has(permission)).map((deployment) => deployment.label);
    const all = new Set(present.flatMap((deployment) => [...deployment.permissions.get(fn)!]));
    const tableActions = [...all].filter((permission) => permission.startsWith('dynamodb:')).sort();
    const tableCell =
      tableActions.length === 0 ? '—' : tableActions.map((action) => cell(grantedIn(action), deployedIn, `\`${action.replace('dynamodb:', '')}\``)).join(', ');
    const only = deployedIn.length < deployments.length ? ` (only with ${deployedIn.join(', ')})` : '';
    lines.push(
      `| \`${fn.name}\`${only} | ${[
        ...SECRET_COLUMNS.map((column) => cell(grantedIn(`secret:${column.heading}`), deployedIn, 'read')),
        tableCell,
        cell(grantedIn('events:PutEvents'), deployedIn, '`PutEvents`'),
        cell(grantedIn('kms:Decrypt'), deployedIn, '`Decrypt`'),
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}
