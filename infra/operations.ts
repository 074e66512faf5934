// What an operator is told: alarms on every function's errors and throttles, the API's 5xx and
// p99 latency, and the service's own "cannot sign" and "cannot check appointments" answers
// (counted from the functions' structured log lines), all to one SNS topic.
import { Duration, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Alarm, ComparisonOperator, Metric, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { FilterPattern, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { TokenFunction } from './token-function.ts';

export interface OperationsProps {
  api: HttpApi;
  functions: readonly TokenFunction[];
  alarmEmail: string | undefined;
}

/** The log lines that mean a dependency is down (a 503's problem type, or a failed publish): each becomes a metric and an alarm. */
const DEPENDENCY_PROBLEMS = {
  SecretUnavailable: { field: '$.problem', value: 'secret-unavailable', description: 'Requests answered 503 secret-unavailable' },
  StoreUnavailable: { field: '$.problem', value: 'store-unavailable', description: 'Requests answered 503 store-unavailable' },
  EventsPublishFailed: { field: '$.event', value: 'events-publish-failed', description: 'Platform events could not be published to the bus' },
} as const;
/** Each stack counts in a namespace of its own, so two stages in one account never set off each other's alarms. */
export const metricNamespaceOf = (stackName: string): string => `JitsiTokenApi/${stackName}`;

export class Operations extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    this.topic = new Topic(this, 'Alarms', {
      displayName: 'jitsi-token-api alarms',
      enforceSSL: true,
      masterKey: Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
    });
    if (props.alarmEmail !== undefined) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const alarm = (name: string, metric: IMetric, threshold: number, description: string) => {
      const created = new Alarm(this, name, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(new SnsAction(this.topic));
      this.alarms.push(created);
    };
    const period = Duration.minutes(5);
    for (const tokenFunction of props.functions) {
      const name = tokenFunction.node.id;
      alarm(`${name}-errors`, tokenFunction.function.metricErrors({ period }), 1, `${name}: the function failed (a bug or a timeout)`);
      alarm(`${name}-throttles`, tokenFunction.function.metricThrottles({ period }), 1, `${name}: Lambda throttled invocations`);
    }
    alarm('api-5xx', props.api.metricServerError({ period }), 5, 'The API answered 5xx five times in five minutes');
    alarm('api-p99-latency', props.api.metricLatency({ period, statistic: 'p99' }), 2_000, "The API's p99 latency reached 2 s");
    const namespace = metricNamespaceOf(Stack.of(this).stackName);
    for (const [metricName, { field, value, description }] of Object.entries(DEPENDENCY_PROBLEMS)) {
      for (const tokenFunction of props.functions) {
        new MetricFilter(this, `${tokenFunction.node.id}-${metricName}`, {
          logGroup: tokenFunction.logGroup,
          filterPattern: FilterPattern.stringValue(field, '=', value),
          metricNamespace: namespace,
          metricName,
          metricValue: '1',
        });
      }
      alarm(metricName, new Metric({ namespace, metricName, statistic: 'Sum', period }), 1, description);
    }
  }
}
