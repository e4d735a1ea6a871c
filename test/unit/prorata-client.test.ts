import { type InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ProrataClient, ProrataClientError, ProrataFunctionError, ProrataInputError, ProrataResponseError, ProrataTransportError, type InvokeResult } from '../../shared/client/prorata-client';

const FUNCTIONS = { changes: 'Prorata-Changes', invoicing: 'Prorata-Invoicing', accrual: 'Prorata-Accrual' };
const REQUEST = { workspace: 'acme', change: { type: 'plan.change_requested' as const, plan: 'ubiz-monthly' }, requestedBy: 'u1', asOf: '2027-01-10T22:00:00+13:00' };
const PREVIEW = {
  status: 'preview',
  invoice: null,
  accrued: [],
  atPeriodEnd: '2027-02-01',
  balance: { billingCredit: '0.00', aiCredits: 0 },
};

const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

/** A client whose transport records each command and answers `answer`. */
function clientAnswering(answer: InvokeResult | (() => Promise<InvokeResult>)) {
  const sent: InvokeCommand[] = [];
  const client = new ProrataClient({
    functions: FUNCTIONS,
    invoke: async (command) => {
      sent.push(command);
      return typeof answer === 'function' ? answer() : answer;
    },
  });
  const payloads = () => sent.map((command) => JSON.parse(String(command.input.Payload)) as Record<string, unknown>);
  return { client, sent, payloads };
}

describe('ProrataClient requests', () => {
  test('previewChange invokes the changes function synchronously with preview: true and the instant in UTC', async () => {
    const { client, sent, payloads } = clientAnswering({ StatusCode: 200, Payload: json(PREVIEW) });
    await expect(client.previewChange(REQUEST)).resolves.toEqual(PREVIEW);
    expect(sent[0].input).toMatchObject({ FunctionName: 'Prorata-Changes', InvocationType: 'RequestResponse' });
    expect(payloads()).toEqual([{ ...REQUEST, asOf: '2027-01-10T09:00:00Z', preview: true }]);
  });

  test('applyChange sends preview: false and passes the idempotency key on', async () => {
    const { client, payloads } = clientAnswering({ StatusCode: 200, Payload: json({ ...PREVIEW, status: 'applied' }) });
    expect((await client.applyChange({ ...REQUEST, idempotencyKey: 'req-1' })).status).toBe('applied');
    expect(payloads()[0]).toMatchObject({ preview: false, idempotencyKey: 'req-1' });
  });

  test('a rejection is a typed result, not an error', async () => {
    const { client } = clientAnswering({ StatusCode: 200, Payload: json({ status: 'rejected', reason: 'forbidden', message: 'u2 may not change the plan' }) });
    const result = await client.applyChange(REQUEST);
    if (result.status !== 'rejected') throw new Error('expected a rejection');
    expect(result.reason).toBe('forbidden');
  });

  test('runJob invokes the job function by name, with dryRun defaulted as the function would', async () => {
    const report = { job: 'accrual', at: '2027-01-10', due: 0, dispatched: 0, notDispatched: 0, notDispatchedWorkspaces: [], retries: 0 };
    const { client, sent, payloads } = clientAnswering({ StatusCode: 200, Payload: json(report) });
    await expect(client.runJob('accrual', { asOf: '2027-01-10' })).resolves.toEqual(report);
    expect(sent[0].input.FunctionName).toBe('Prorata-Accrual');
    expect(payloads()).toEqual([{ asOf: '2027-01-10', dryRun: false }]);
  });
});

describe('ProrataClient errors', () => {
  test('an invalid request is refused before anything is sent, naming the field', async () => {
    const { client, sent } = clientAnswering({ StatusCode: 200, Payload: json(PREVIEW) });
    const error = await client.previewChange({ ...REQUEST, change: { type: 'seats.purchased', seats: -1 } }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProrataInputError);
    expect(error).toMatchObject({ field: 'input.change.seats', remote: false, code: 'invalid-input' });
    await expect(client.runJob('invoicing', { asOf: 'yesterday' })).rejects.toMatchObject({ field: 'input.asOf', remote: false });
    expect(sent).toHaveLength(0);
  });

  test("the function's ValidationError comes back as a remote ProrataInputError with its field", async () => {
    const { client } = clientAnswering({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: json({ errorType: 'ValidationError', errorMessage: 'input.asOf: 2027-01-10T09:00:00Z is not within a day before and five minutes after the clock', trace: [] }),
    });
    await expect(client.applyChange(REQUEST)).rejects.toMatchObject({ name: 'ProrataInputError', field: 'input.asOf', remote: true });
  });

  test("any other function error is a ProrataFunctionError with the engine's error type", async () => {
    const { client } = clientAnswering({ StatusCode: 200, FunctionError: 'Unhandled', Payload: json({ errorType: 'IncompleteDispatchError', errorMessage: 'invoicing dispatch: 2 of 9 not sent' }) });
    const error = await client.runJob('invoicing', { asOf: '2027-01-10' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProrataFunctionError);
    expect(error).toBeInstanceOf(ProrataClientError);
    expect(error).toMatchObject({ errorType: 'IncompleteDispatchError', functionName: 'Prorata-Invoicing' });
  });

  test('a response outside the published schema is a ProrataResponseError naming where', async () => {
    const { client } = clientAnswering({ StatusCode: 200, Payload: json({ ...PREVIEW, balance: { billingCredit: 12 } }) });
    await expect(client.previewChange(REQUEST)).rejects.toThrow(ProrataResponseError);
    await expect(client.previewChange(REQUEST)).rejects.toThrow(/balance\.billingCredit/);
  });

  test('a failed send is a ProrataTransportError keeping the SDK error as its cause', async () => {
    const denied = Object.assign(new Error('User is not authorized to perform: lambda:InvokeFunction'), { name: 'AccessDeniedException' });
    const { client } = clientAnswering(() => Promise.reject(denied));
    const error = await client.previewChange(REQUEST).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProrataTransportError);
    expect((error as Error).cause).toBe(denied);
  });
});

describe('over a LambdaClient', () => {
  test("sends an InvokeCommand through the SDK client's middleware stack and decodes its Payload", async () => {
    const lambda = new LambdaClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const seen: unknown[] = [];
    // Answers at the first step, before anything is signed or sent: no network, no AWS.
    lambda.middlewareStack.add(
      () => async (args) => {
        seen.push(args.input);
        return { output: { $metadata: {}, StatusCode: 200, Payload: json(PREVIEW) }, response: {} };
      },
      { step: 'initialize', name: 'answerLocally' },
    );
    const client = new ProrataClient({ functions: FUNCTIONS, lambda });
    await expect(client.previewChange(REQUEST)).resolves.toEqual(PREVIEW);
    expect(seen).toEqual([expect.objectContaining({ FunctionName: 'Prorata-Changes', InvocationType: 'RequestResponse' })]);
    lambda.destroy();
  });
});
