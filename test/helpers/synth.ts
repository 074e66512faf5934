// Synthesises JitsiTokenStack in-process with the given context. Bundling is skipped unless asked
// for, so template tests stay fast.
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { JitsiTokenStack } from '../../infra/stack.ts';
import { readStackSettings } from '../../infra/stack-settings.ts';
import { testTempDir } from './temp.ts';

export function synth(context: Record<string, unknown>, options: { bundle?: boolean; outdir?: string } = {}) {
  // An outdir of our own: CDK would otherwise make one in the system temp folder per synth.
  const app = new App({
    outdir: options.outdir ?? testTempDir('cdk-out-'),
    context: { ...context, ...(options.bundle ? { 'aws:cdk:enable-asset-metadata': true } : { 'aws:cdk:bundling-stacks': [] }) },
  });
  const stack = new JitsiTokenStack(app, 'JitsiTokenStack', { settings: readStackSettings(app.node) });
  const nag = new AwsSolutionsChecks(app).validateScope(stack);
  return { app, stack, template: Template.fromStack(stack), nagViolations: nag.violations };
}

export const JWT_CONTEXT = {
  authIssuer: 'https://issuer.example',
  authAudience: 'app-client',
  jitsiDomain: 'meet.acme.org',
  jitsiAppId: 'acme',
  jitsiSub: 'meet.jitsi',
  corsOrigins: 'https://app.acme.org',
  moderatorClaim: 'cognito:groups',
  moderatorValues: 'therapists',
};
