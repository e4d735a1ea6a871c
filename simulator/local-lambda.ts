import type { InvokeCommand } from '@aws-sdk/client-lambda';
import { createAccrualDispatcher } from '../functions/accrual/handler';
import { createChangesHandler } from '../functions/changes/handler';
import { createInvoicingDispatcher } from '../functions/invoicing/handler';
import type { InvokeFunction, InvokeResult, ProrataFunctionNames } from '../shared/client/prorata-client';
import type { Dependencies } from '../shared/jobs/dependencies';
import type { Clock } from '../shared/runtime/job-handler';
import { withMiddlewares } from '../shared/runtime/middleware';
import { createWorkerHandler } from '../shared/runtime/worker-handler';
import { InProcessQueue } from './in-process-queue';
import { lambdaContext } from './simulate';

/** The function names the local transport answers to unless told otherwise. */
export const LOCAL_FUNCTION_NAMES: ProrataFunctionNames = { changes: 'prorata-changes', invoicing: 'prorata-invoicing', accrual: 'prorata-accrual' };

/** What the local transport runs on. */
export interface LocalLambdaOptions {
  /** The store (on DynamoDB Local) and publisher the handlers use. */
  deps: Dependencies;
  /** The handlers' clock (the changes apply window, the jobs' horizon). @default Date.now */
  clock?: Clock;
  functions?: ProrataFunctionNames;
}

function encode(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

function payloadText(payload: InvokeCommand['input']['Payload']): string {
  if (payload === undefined) return '';
  if (typeof payload === 'string') return payload;
  return new TextDecoder().decode(payload as Uint8Array);
}

/**
 * A Lambda `Invoke` without AWS, for the typed client's example and tests: runs the deployed
 * handlers themselves (changes, and the invoicing and accrual dispatchers, whose fanned-out
 * messages a worker bills before the call returns) with the middlewares they are deployed
 * with. The payload crosses as JSON both ways, and a thrown error comes back as Lambda returns
 * it (`FunctionError: 'Unhandled'`, `{ errorType, errorMessage }`); an unknown function name
 * throws, as the SDK's `ResourceNotFoundException` does.
 */
export function createLocalLambda(options: LocalLambdaOptions): InvokeFunction {
  const names = options.functions ?? LOCAL_FUNCTION_NAMES;
  const clock = options.clock ?? Date.now;
  const deps = () => options.deps;
  const queue = new InProcessQueue({ visibilityTimeoutMs: 12 * 60_000 });
  const worker = withMiddlewares(createWorkerHandler(deps, { clock }));
  const drained = async <T>(result: T): Promise<T> => {
    await queue.drain(worker, { batchSize: 10, concurrency: 2, context: lambdaContext('worker'), failFast: true });
    return result;
  };
  const changes = withMiddlewares(createChangesHandler(deps, clock));
  const invoicing = withMiddlewares(createInvoicingDispatcher(deps, () => queue, clock));
  const accrual = withMiddlewares(createAccrualDispatcher(deps, () => queue, clock));
  const handlers: Record<string, (event: unknown) => Promise<unknown>> = {
    [names.changes]: (event) => changes(event, lambdaContext('changes')),
    [names.invoicing]: async (event) => drained(await invoicing(event, lambdaContext('invoicing'))),
    [names.accrual]: async (event) => drained(await accrual(event, lambdaContext('accrual'))),
  };

  return async (command: InvokeCommand): Promise<InvokeResult> => {
    const name = command.input.FunctionName ?? '';
    const handler = Object.hasOwn(handlers, name) ? handlers[name] : undefined;
    if (!handler) throw Object.assign(new Error(`Function not found: ${name}`), { name: 'ResourceNotFoundException' });
    const text = payloadText(command.input.Payload);
    let event: unknown;
    try {
      event = text === '' ? {} : JSON.parse(text);
    } catch {
      return { StatusCode: 200, FunctionError: 'Unhandled', Payload: encode({ errorType: 'Runtime.UnmarshalError', errorMessage: 'Unable to parse input as JSON' }) };
    }
    try {
      return { StatusCode: 200, Payload: encode(await handler(event)) };
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      return { StatusCode: 200, FunctionError: 'Unhandled', Payload: encode({ errorType: failure.name, errorMessage: failure.message, trace: [] }) };
    }
  };
}
