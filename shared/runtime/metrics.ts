import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { RunSummary } from '../jobs/billing-jobs';
import type { DispatchReport } from '../jobs/fan-out';

/** The CloudWatch namespace of Prorata's metrics (the stack's alarms read it). */
export const METRICS_NAMESPACE = 'Prorata';

/** The service dimension Powertools adds to every metric (the stack's alarms match it). */
export const METRICS_SERVICE = 'prorata';

/** Metric names, shared with the stack's alarms. */
export const METRIC = {
  workspacesDue: 'WorkspacesDue',
  dispatched: 'WorkspacesDispatched',
  notDispatched: 'WorkspacesNotDispatched',
  oldestDueAge: 'OldestDueAgeSeconds',
  dispatchDuration: 'DispatchDurationMs',
  invoicesIssued: 'InvoicesIssued',
  amountInvoiced: 'AmountInvoiced',
  alreadyBilled: 'WorkspacesAlreadyBilled',
  failures: 'WorkspaceFailures',
  batchDuration: 'WorkerBatchDurationMs',
  billingLag: 'BillingLagSeconds',
} as const;

/** One metric data point. `job` becomes a dimension (`job`), like `currency` for amounts. */
export interface MetricPoint {
  name: (typeof METRIC)[keyof typeof METRIC];
  unit: 'Count' | 'Seconds' | 'Milliseconds' | 'None';
  value: number;
  dimensions: { job: string; currency?: string };
}

/** Where metric points go: CloudWatch through EMF when deployed, a recorder in tests, nowhere locally. */
export type MetricsSink = (points: readonly MetricPoint[]) => void;

/** Drops every point (the simulator, the tests that do not look at metrics). */
export const noMetrics: MetricsSink = () => undefined;

const UNITS = { Count: MetricUnit.Count, Seconds: MetricUnit.Seconds, Milliseconds: MetricUnit.Milliseconds, None: MetricUnit.NoUnit } as const;

/**
 * Powertools Metrics: each point is written at once as an Embedded Metric Format log line (one
 * `singleMetric` per point, since points differ in dimensions), which CloudWatch turns into a
 * metric without a `PutMetricData` call or its permission.
 */
export function powertoolsMetrics(metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE })): MetricsSink {
  return (points) => {
    for (const point of points) {
      const single = metrics.singleMetric();
      single.addDimensions(point.dimensions.currency ? { job: point.dimensions.job, currency: point.dimensions.currency } : { job: point.dimensions.job });
      single.addMetric(point.name, UNITS[point.unit], point.value);
    }
  };
}

/**
 * A dispatcher run's points: workspaces due and dispatched, the run's duration and the age of
 * the oldest workspace due and not billed yet at `now` (0 when none is due, so the backlog alarm
 * always has a data point from a run that happened).
 */
export function dispatchMetrics(report: DispatchReport, durationMs: number, now: number): MetricPoint[] {
  const job = report.job;
  const age = report.oldestDueAt === undefined ? 0 : Math.max(0, Math.round((now - Date.parse(report.oldestDueAt)) / 1000));
  return [
    { name: METRIC.workspacesDue, unit: 'Count', value: report.due, dimensions: { job } },
    { name: METRIC.dispatched, unit: 'Count', value: report.dispatched, dimensions: { job } },
    { name: METRIC.notDispatched, unit: 'Count', value: report.notDispatched, dimensions: { job } },
    { name: METRIC.oldestDueAge, unit: 'Seconds', value: age, dimensions: { job } },
    { name: METRIC.dispatchDuration, unit: 'Milliseconds', value: durationMs, dimensions: { job } },
  ];
}

/**
 * A worker batch's (or an in-process run's) points: invoices issued, amount per currency,
 * workspaces found already billed, failures, the batch's duration and, when known, the longest
 * time from a workspace's due instant to its billing (its maximum over a day is how long the
 * 1st took).
 */
export function billingMetrics(job: string, summary: RunSummary, durationMs: number, billingLagSeconds?: number): MetricPoint[] {
  const points: MetricPoint[] = [
    { name: METRIC.invoicesIssued, unit: 'Count', value: summary.invoices, dimensions: { job } },
    { name: METRIC.alreadyBilled, unit: 'Count', value: summary.alreadyBilled, dimensions: { job } },
    { name: METRIC.failures, unit: 'Count', value: summary.failed, dimensions: { job } },
    { name: METRIC.batchDuration, unit: 'Milliseconds', value: durationMs, dimensions: { job } },
  ];
  for (const [currency, amount] of Object.entries(summary.amounts)) points.push({ name: METRIC.amountInvoiced, unit: 'None', value: Number(amount), dimensions: { job, currency } });
  if (billingLagSeconds !== undefined) points.push({ name: METRIC.billingLag, unit: 'Seconds', value: billingLagSeconds, dimensions: { job } });
  return points;
}
