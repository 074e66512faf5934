// The CDK app (cdk.json "app"): one environment-agnostic stack, checked by cdk-nag AwsSolutions.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { JitsiTokenStack } from './stack.ts';
import { readStackSettings, StackSettingsError } from './stack-settings.ts';

const app = new App();
try {
  // -c stackName=JitsiTokenStack-dev lets dev and prod live side by side in one account.
  const stackName: unknown = app.node.tryGetContext('stackName') ?? 'JitsiTokenStack';
  if (typeof stackName !== 'string' || !/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName)) {
    throw new StackSettingsError('context stackName must start with a letter and hold letters, digits and "-" (at most 128)');
  }
  new JitsiTokenStack(app, stackName, {
    description: 'jitsi-token-api: mints and checks Jitsi Meet tokens',
    settings: readStackSettings(app.node),
  });
} catch (error) {
  if (error instanceof StackSettingsError) {
    process.stderr.write(`\n${error.message}\n\n`);
    process.exit(1);
  }
  throw error;
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
