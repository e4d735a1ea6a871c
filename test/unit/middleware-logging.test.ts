/**
 * The one `onError` middleware logs what went wrong: Powertools drops an extra attribute named
 * `message`, so a billing error's text must travel under another key to reach the logs.
 */
import type { Context } from 'aws-lambda';
import { ValidationError } from '../../shared/domain/errors';
import { withMiddlewares } from '../../shared/runtime/middleware';
import { logger } from '../../shared/runtime/observability';

const context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'prorata-test',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:prorata-test',
  memoryLimitInMB: '512',
  awsRequestId: 'request-1',
  logGroupName: '/aws/lambda/prorata-test',
  logStreamName: 'test',
  getRemainingTimeInMillis: () => 1000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;

/**
 * A handler that fails with `error`. It turns the logger on itself: the Lambda-context
 * middleware resets the level to the configured one (silent in tests) at each invocation.
 */
function failingWith(error: Error) {
  return withMiddlewares(async () => {
    logger.setLogLevel('DEBUG');
    throw error;
  });
}

/** Runs `work` and returns every JSON line the logger wrote (stdout and stderr). */
async function captureLogs(work: () => Promise<unknown>): Promise<Array<Record<string, unknown>>> {
  const lines: string[] = [];
  const capture = (chunk: string | Uint8Array): boolean => {
    lines.push(String(chunk));
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  const level = logger.getLevelName();
  try {
    await work().catch(() => undefined);
  } finally {
    logger.setLogLevel(level);
    out.mockRestore();
    err.mockRestore();
  }
  return lines
    .join('')
    .split('\n')
    .filter((line) => line.trim().startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('error logging middleware', () => {
  test('a billing error is logged with its code, field and message', async () => {
    const handler = failingWith(new ValidationError('detail.member', 'Invalid input: expected string, received undefined'));
    const logs = await captureLogs(() => handler({}, context));
    const entry = logs.find((log) => log.message === 'billing error');
    expect(entry).toMatchObject({
      level: 'ERROR',
      code: 'invalid-input',
      field: 'detail.member',
      errorMessage: 'detail.member: Invalid input: expected string, received undefined',
    });
    // Nothing was dropped on the way: Powertools warns when it drops a reserved key.
    expect(logs.some((log) => String(log.message).includes('reserved key'))).toBe(false);
  });

  test('an unexpected error is logged with its message', async () => {
    const handler = failingWith(new Error('DynamoDB is unreachable'));
    const logs = await captureLogs(() => handler({}, context));
    const entry = logs.find((log) => log.message === 'unexpected error');
    expect(entry?.error).toMatchObject({ name: 'Error', message: 'DynamoDB is unreachable' });
  });

  test('the handler still fails with the original error', async () => {
    const handler = failingWith(new ValidationError('input.asOf', 'bad'));
    let thrown: unknown;
    await captureLogs(() => handler({}, context).catch((error: unknown) => (thrown = error)));
    expect(thrown).toBeInstanceOf(ValidationError);
    expect((thrown as ValidationError).message).toBe('input.asOf: bad');
  });
});
