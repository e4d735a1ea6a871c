/**
 * The in-process work queue behaves as SQS under a Lambda event source mapping with
 * ReportBatchItemFailures: what the fan-out tests and the simulator rely on.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { WorkMessage } from '../../shared/contracts/work-message';
import { InProcessQueue } from '../../simulator/in-process-queue';

const message = (workspace: string): WorkMessage => ({ job: 'invoicing', workspace, sortKey: `2027-01-01T00:00:00Z#${workspace}`, scheduledTime: '2027-01-01T00:05:00Z' });
const workspacesOf = (event: SQSEvent) => event.Records.map((record) => (JSON.parse(record.body) as WorkMessage).workspace);

describe('in-process queue (SQS semantics)', () => {
  test('at most 10 messages per send; refused entries are reported by position', async () => {
    const queue = new InProcessQueue();
    await expect(queue.sendBatch(Array.from({ length: 11 }, (_, i) => message(`w${i}`)))).rejects.toThrow('TooManyEntriesInBatchRequest');
    queue.refuse = (m) => m.workspace === 'w1';
    expect(await queue.sendBatch([message('w0'), message('w1'), message('w2')])).toEqual({ failed: [1] });
    expect(queue.depth).toBe(2);
  });

  test('a received message is invisible until its timeout, then received again with a higher count; only its latest receipt deletes it', async () => {
    const queue = new InProcessQueue({ visibilityTimeoutMs: 1_000 });
    await queue.sendBatch([message('a')]);
    const [first] = queue.receive(10, 0);
    expect(first.attributes.ApproximateReceiveCount).toBe('1');
    expect(queue.receive(10, 999)).toEqual([]);
    const [second] = queue.receive(10, 1_000);
    expect(second.attributes.ApproximateReceiveCount).toBe('2');
    expect(queue.delete(first.receiptHandle)).toBe(false);
    expect(queue.delete(second.receiptHandle)).toBe(true);
    expect(queue.depth).toBe(0);
  });

  test('drain deletes what the handler did not report failed, redelivers the failed one alone, and parks it after maxReceiveCount', async () => {
    const queue = new InProcessQueue({ visibilityTimeoutMs: 20, maxReceiveCount: 3 });
    await queue.sendBatch(['a', 'b', 'poison', 'c'].map(message));
    const seen: string[][] = [];
    const stats = await queue.drain(
      async (event): Promise<SQSBatchResponse> => {
        seen.push(workspacesOf(event));
        return { batchItemFailures: event.Records.filter((record) => record.body.includes('poison')).map((record) => ({ itemIdentifier: record.messageId })) };
      },
      { batchSize: 10 },
    );
    expect(seen).toEqual([['a', 'b', 'poison', 'c'], ['poison'], ['poison']]);
    expect(stats).toEqual({ invocations: 3, crashes: 0, deleted: 3, itemFailures: 3 });
    expect(queue.deadLetters).toEqual([{ messageId: expect.any(String), body: message('poison'), receiveCount: 3 }]);
  });

  test('a handler that throws deletes nothing: the whole batch comes back', async () => {
    const queue = new InProcessQueue({ visibilityTimeoutMs: 20 });
    await queue.sendBatch(['a', 'b'].map(message));
    const seen: string[][] = [];
    const stats = await queue.drain(async () => ({ batchItemFailures: [] }), {
      handlerFor: (invocation) => async (event) => {
        seen.push(workspacesOf(event));
        if (invocation === 0) throw new Error('Task timed out');
        return { batchItemFailures: [] };
      },
    });
    expect(seen).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
    expect(stats).toMatchObject({ invocations: 2, crashes: 1, deleted: 2 });
  });

  test('failFast rejects at the first failure instead of waiting for redeliveries', async () => {
    const queue = new InProcessQueue({ visibilityTimeoutMs: 60_000 });
    await queue.sendBatch(['a', 'b'].map(message));
    await expect(queue.drain(async (event) => ({ batchItemFailures: event.Records.slice(1).map((record) => ({ itemIdentifier: record.messageId })) }), { failFast: true })).rejects.toThrow(
      'work messages failed: {"job":"invoicing","workspace":"b"',
    );
  });
});
