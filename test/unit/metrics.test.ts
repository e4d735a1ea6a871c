/**
 * The EMF lines the workers and dispatchers write: CloudWatch turns them into the metrics the
 * stack's alarms read, so their namespace, dimensions and names must match the alarms'.
 */
import { billingMetrics, dispatchMetrics, METRICS_NAMESPACE, powertoolsMetrics } from '../../shared/runtime/metrics';
import { emptySummary } from '../../shared/jobs/billing-jobs';

function emitted(run: () => void): Array<Record<string, unknown>> {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('metrics (EMF)', () => {
  test('a worker batch: invoices, amount per currency with a currency dimension, failures, duration, billing lag', () => {
    const summary = { ...emptySummary(), workspaces: 3, invoiced: 2, alreadyBilled: 1, invoices: 2, failed: 1, amounts: { USD: '140.00', EUR: '3.50' } };
    const lines = emitted(() => powertoolsMetrics()(billingMetrics('invoicing', summary, 42, 600)));
    const values = lines.map((line) => {
      const { _aws: aws, ...rest } = line as { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> } };
      expect(aws.CloudWatchMetrics[0].Namespace).toBe(METRICS_NAMESPACE);
      return { dimensions: aws.CloudWatchMetrics[0].Dimensions[0], ...rest };
    });
    expect(values).toEqual([
      { dimensions: ['service', 'job'], service: 'prorata', job: 'invoicing', InvoicesIssued: 2 },
      { dimensions: ['service', 'job'], service: 'prorata', job: 'invoicing', WorkspacesAlreadyBilled: 1 },
      { dimensions: ['service', 'job'], service: 'prorata', job: 'invoicing', WorkspaceFailures: 1 },
      { dimensions: ['service', 'job'], service: 'prorata', job: 'invoicing', WorkerBatchDurationMs: 42 },
      { dimensions: ['service', 'job', 'currency'], service: 'prorata', job: 'invoicing', currency: 'USD', AmountInvoiced: 140 },
      { dimensions: ['service', 'job', 'currency'], service: 'prorata', job: 'invoicing', currency: 'EUR', AmountInvoiced: 3.5 },
      { dimensions: ['service', 'job'], service: 'prorata', job: 'invoicing', BillingLagSeconds: 600 },
    ]);
  });

  test('a dispatch: due, dispatched, the age of the oldest workspace due at the clock (0 when none is due)', () => {
    const report = { job: 'invoicing' as const, at: '2027-01-01T03:05:00Z', due: 5, dispatched: 5, notDispatched: 0, notDispatchedWorkspaces: [], oldestDueAt: '2027-01-01T00:00:00Z', retries: 0 };
    const now = Date.parse('2027-01-01T03:06:00Z');
    expect(dispatchMetrics(report, 900, now)).toContainEqual({ name: 'OldestDueAgeSeconds', unit: 'Seconds', value: 3 * 3600 + 360, dimensions: { job: 'invoicing' } });
    expect(dispatchMetrics({ ...report, due: 0, dispatched: 0, oldestDueAt: undefined }, 900, now)).toContainEqual({
      name: 'OldestDueAgeSeconds',
      unit: 'Seconds',
      value: 0,
      dimensions: { job: 'invoicing' },
    });
  });
});
