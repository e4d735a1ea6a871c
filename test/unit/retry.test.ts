/**
 * Runs survive faults (issue 9 item 2), the pure parts: backoff with full jitter, which errors
 * are retried, and the fault-injecting client the integration suite relies on.
 */
import { ConditionalCheckFailedException, InternalServerError, ProvisionedThroughputExceededException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, ValidationError } from '../../shared/domain/errors';
import { backoffDelay, retryWithBackoff, type RetryPolicy } from '../../shared/jobs/retry';
import { classifyError } from '../../shared/store/dynamo-errors';
import { seededRandom, withFaults } from '../../simulator/faulty-dynamo';

const META = { $metadata: {} };

function recordingPolicy(random: () => number, attempts = 6): RetryPolicy & { waits: number[] } {
  const waits: number[] = [];
  return { attempts, baseDelayMs: 250, maxDelayMs: 8_000, random, sleep: async (ms) => void waits.push(ms), waits };
}

describe('retryWithBackoff: exponential backoff with full jitter', () => {
  test('the ceiling doubles from the base and stops at the maximum; the wait is uniform below it', () => {
    const top = { baseDelayMs: 250, maxDelayMs: 8_000, random: () => 0.999999 };
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((retry) => backoffDelay(top, retry))).toEqual([249, 499, 999, 1999, 3999, 7999, 7999, 7999]);
    expect(backoffDelay({ ...top, random: () => 0 }, 5)).toBe(0);
    expect(backoffDelay({ ...top, random: () => 0.5 }, 3)).toBe(500);
  });

  test('a transient error is retried after each wait until the work succeeds', async () => {
    const policy = recordingPolicy(() => 0.5);
    let calls = 0;
    const retries: number[] = [];
    const result = await retryWithBackoff(
      async () => {
        calls += 1;
        if (calls < 4) throw new ProvisionedThroughputExceededException({ message: 'slow down', ...META });
        return 'billed';
      },
      policy,
      () => true,
      (_error, retry) => retries.push(retry),
    );
    expect(result).toBe('billed');
    expect(calls).toBe(4);
    expect(retries).toEqual([1, 2, 3]);
    expect(policy.waits).toEqual([125, 250, 500]);
  });

  test("gives up after the last attempt and throws that attempt's error", async () => {
    const policy = recordingPolicy(seededRandom(7), 4);
    let calls = 0;
    await expect(
      retryWithBackoff(
        async () => {
          calls += 1;
          throw new Error(`attempt ${calls}`);
        },
        policy,
        () => true,
      ),
    ).rejects.toThrow('attempt 4');
    expect(calls).toBe(4);
    expect(policy.waits).toHaveLength(3);
    for (const [index, wait] of policy.waits.entries()) expect(wait).toBeLessThan(250 * 2 ** index);
  });

  test('an error the classifier refuses is thrown at once, without waiting', async () => {
    const policy = recordingPolicy(() => 0.5);
    let calls = 0;
    await expect(
      retryWithBackoff(
        async () => {
          calls += 1;
          throw new ValidationError('plan', 'unknown');
        },
        policy,
        (error) => classifyError(error) !== 'permanent',
      ),
    ).rejects.toThrow('plan: unknown');
    expect(calls).toBe(1);
    expect(policy.waits).toEqual([]);
  });
});

describe('classifyError: conflict → re-plan, transient → back off, permanent → report', () => {
  const canceled = (...codes: string[]) => new TransactionCanceledException({ message: 'canceled', ...META, CancellationReasons: codes.map((Code) => ({ Code })) });
  const named = (name: string, fields: Record<string, unknown> = {}) => Object.assign(new Error(name), { name }, fields);

  test.each([
    ['ConflictError', new ConflictError('workspace acme changed concurrently'), 'conflict'],
    ['ConditionalCheckFailedException', new ConditionalCheckFailedException({ message: 'failed', ...META }), 'conflict'],
    ['a transaction whose version condition failed (a landed attempt sent again)', canceled('ConditionalCheckFailed', 'None', 'None'), 'conflict'],
    ['a transaction that met a concurrent one', canceled('None', 'TransactionConflict'), 'conflict'],
    ['a throttled transaction', canceled('None', 'ThrottlingError'), 'transient'],
    ['a transaction refused for its size', canceled('ValidationError'), 'permanent'],
    ['ProvisionedThroughputExceededException', new ProvisionedThroughputExceededException({ message: 'slow down', ...META }), 'transient'],
    ['ThrottlingException', named('ThrottlingException'), 'transient'],
    ['RequestLimitExceeded', named('RequestLimitExceeded'), 'transient'],
    ['InternalServerError', new InternalServerError({ message: 'oops', $metadata: { httpStatusCode: 500 } }), 'transient'],
    ['an HTTP 503 of any name', named('ServiceFailure', { $metadata: { httpStatusCode: 503 } }), 'transient'],
    ['TimeoutError', named('TimeoutError'), 'transient'],
    ['ECONNRESET', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'transient'],
    ['a network error wrapped as the cause', new Error('request failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) }), 'transient'],
    ['ValidationException (a bad request, HTTP 400)', named('ValidationException', { $fault: 'client', $metadata: { httpStatusCode: 400 } }), 'permanent'],
    ['an aborted request', named('AbortError'), 'permanent'],
    ['the engine refusing input', new ValidationError('catalog', 'missing'), 'permanent'],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'end')"), 'permanent'],
    ['a thrown string', 'boom', 'permanent'],
  ])('%s', (_name, error, expected) => {
    expect(classifyError(error)).toBe(expected);
  });
});

describe('withFaults: the fault-injecting DynamoDB client', () => {
  /** A client that records what reached it and answers every call. */
  function fakeClient() {
    const received: string[] = [];
    const client = {
      send: async (command: object) => {
        received.push(command.constructor.name);
        return { ok: true };
      },
    };
    return { received, client };
  }
  const put = (n: number, conditional = false) => new PutCommand({ TableName: 't', Item: { pk: `p${n}`, sk: 's' }, ...(conditional ? { ConditionExpression: 'attribute_not_exists(pk)' } : {}) });

  test('fails about the share asked for, half of them after the call went through', async () => {
    const { client, received } = fakeClient();
    const faulty = withFaults(client, { rate: 0.2, seed: 42 });
    let thrown = 0;
    for (let n = 0; n < 2000; n += 1) await faulty.client.send(new GetCommand({ TableName: 't', Key: { pk: `p${n}`, sk: 's' } })).catch(() => (thrown += 1));
    expect(faulty.stats.calls).toBe(2000);
    expect(thrown).toBe(faulty.stats.faults);
    expect(faulty.stats.faults / 2000).toBeGreaterThan(0.17);
    expect(faulty.stats.faults / 2000).toBeLessThan(0.23);
    expect(faulty.stats.afterLanding / faulty.stats.faults).toBeGreaterThan(0.4);
    expect(faulty.stats.afterLanding / faulty.stats.faults).toBeLessThan(0.6);
    // A fault after the call reached the table; one before did not.
    expect(received).toHaveLength(2000 - faulty.stats.faults + faulty.stats.afterLanding);
    // Reads never see a condition failure.
    expect(faulty.stats.byKind['condition-failed']).toBe(0);
  });

  test('a condition failure only after a conditional write landed; transactions get canceled with the reason on a conditional item', async () => {
    const { client, received } = fakeClient();
    const faulty = withFaults(client, { rate: 1, seed: 3, afterLanding: 1 });
    const errors: unknown[] = [];
    const commands = [
      ...Array.from({ length: 60 }, (_, n) => put(n, true)),
      ...Array.from(
        { length: 60 },
        (_, n) =>
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: 't', Item: { pk: `o${n}`, sk: 's' } } },
              { Put: { TableName: 't', Item: { pk: `q${n}`, sk: 's' }, ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': 1 } } },
            ],
          }),
      ),
      ...Array.from({ length: 60 }, (_, n) => new UpdateCommand({ TableName: 't', Key: { pk: `u${n}`, sk: 's' }, UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': 1 } })),
    ];
    for (const command of commands) await faulty.client.send(command).catch((error: unknown) => errors.push(error));
    expect(received).toHaveLength(180);
    expect(errors).toHaveLength(180);
    const conditionFailures = errors.filter((error) => classifyError(error) === 'conflict');
    expect(conditionFailures.length).toBe(faulty.stats.byKind['condition-failed']);
    expect(conditionFailures.length).toBeGreaterThan(30);
    for (const error of conditionFailures) {
      if (error instanceof TransactionCanceledException) expect(error.CancellationReasons?.map((reason) => reason.Code)).toEqual(['None', 'ConditionalCheckFailed']);
      else expect(error).toBeInstanceOf(ConditionalCheckFailedException);
    }
    // The unconditional counter update never claims a condition failed.
    expect(errors.slice(120).every((error) => classifyError(error) === 'transient')).toBe(true);
  });

  test('the same seed fails the same calls whatever the order they come in; another seed others', async () => {
    const failures = async (seed: number, order: number[]) => {
      const faulty = withFaults(fakeClient().client, { rate: 0.3, seed });
      const failed: number[] = [];
      for (const n of order) await faulty.client.send(new DeleteCommand({ TableName: 't', Key: { pk: `p${n}`, sk: 's' } })).catch(() => failed.push(n));
      return failed.sort((a, b) => a - b);
    };
    const order = Array.from({ length: 200 }, (_, n) => n);
    const first = await failures(9, order);
    expect(await failures(9, [...order].reverse())).toEqual(first);
    expect(await failures(10, order)).not.toEqual(first);
  });

  test('switched off, every call goes through', async () => {
    const { client, received } = fakeClient();
    const faulty = withFaults(client, { rate: 1, seed: 1 });
    faulty.enabled = false;
    for (let n = 0; n < 20; n += 1) await faulty.client.send(put(n));
    expect(received).toHaveLength(20);
    expect(faulty.stats.faults).toBe(0);
  });
});
