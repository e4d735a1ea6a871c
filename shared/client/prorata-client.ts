import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { z } from 'zod';
import { changeInvocationSchema, issuePath, jobInvocationSchema } from '../contracts/events';
import { changeResultSchema, jobResultSchema } from '../contracts/outputs';

/**
 * A typed client for a customer's backend: previews and applies self-serve changes (R19) and
 * runs the billing jobs on demand, by invoking the deployed functions synchronously. Requests
 * are validated with the same zod schemas the functions use before anything is sent, and
 * responses are parsed with the published response schemas, so a caller gets either a typed
 * result or one of the `ProrataClientError` classes, never an untyped payload.
 */

/** A change request as the caller writes it (`preview` is set by the method called). */
export type ChangeRequest = Omit<z.input<typeof changeInvocationSchema>, 'preview'>;

/** What a change did or, previewed, would do; or its rejection (`status: 'rejected'`, with `reason`). */
export type ChangeResult = z.output<typeof changeResultSchema>;

/** A change the rules refused (R15): a result, not an error, as the function returns it. */
export type ChangeRejection = Extract<ChangeResult, { status: 'rejected' }>;

/** An on-demand job invocation: `{ asOf, workspace?, dryRun? }` (or a schedule's `{ scheduledTime }`, to replay an hour). */
export type JobRequest = z.input<typeof jobInvocationSchema>;

/** What a job returns: the run's report (one workspace, or a dry run) or the dispatch report of a fanned-out run. */
export type JobResult = z.output<typeof jobResultSchema>;

/** The billing jobs that can be run on demand. */
export type JobName = 'invoicing' | 'accrual';

/** The deployed function names (the stack outputs `ChangesFunctionName`, `InvoicingFunctionName`, `AccrualFunctionName`). */
export interface ProrataFunctionNames {
  changes: string;
  invoicing: string;
  accrual: string;
}

/** The part of Lambda's `Invoke` response the client reads. */
export interface InvokeResult {
  StatusCode?: number;
  /** Set when the function threw: its payload is then `{ errorType, errorMessage }`. */
  FunctionError?: string;
  Payload?: Uint8Array;
}

/**
 * The transport seam: sends one `InvokeCommand`. A `LambdaClient`'s `send` in production;
 * a local implementation (`simulator/local-lambda.ts`) runs the real handlers on DynamoDB
 * Local; a test passes a function that records the command and answers.
 */
export type InvokeFunction = (command: InvokeCommand) => Promise<InvokeResult>;

/** How the client reaches the functions. */
export interface ProrataClientOptions {
  functions: ProrataFunctionNames;
  /** A configured Lambda client (region, credentials). @default new LambdaClient({}) */
  lambda?: LambdaClient;
  /** Replaces `lambda` entirely (see `InvokeFunction`). */
  invoke?: InvokeFunction;
}

/** The base of every error the client throws; `code` is stable for programs to branch on. */
export class ProrataClientError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * The request is invalid: refused by the client before sending (`remote: false`) or by the
 * function's own validation (`remote: true`, e.g. an `asOf` outside the apply window).
 * `field` names the offending path, e.g. `input.change.seats`.
 */
export class ProrataInputError extends ProrataClientError {
  readonly field: string;
  readonly remote: boolean;

  constructor(field: string, message: string, remote: boolean) {
    super('invalid-input', `${field}: ${message}`);
    this.field = field;
    this.remote = remote;
  }
}

/** The function failed (an error other than invalid input): `errorType` is the engine's error class, e.g. `IncompleteDispatchError`. */
export class ProrataFunctionError extends ProrataClientError {
  readonly errorType: string;
  readonly functionName: string;

  constructor(functionName: string, errorType: string, message: string) {
    super('function-error', `${functionName} failed (${errorType}): ${message}`);
    this.errorType = errorType;
    this.functionName = functionName;
  }
}

/** The function answered something its published response schema does not allow (a version mismatch, a wrong function name). */
export class ProrataResponseError extends ProrataClientError {
  readonly payload: unknown;

  constructor(message: string, payload: unknown) {
    super('invalid-response', message);
    this.payload = payload;
  }
}

/** The invocation did not reach the function or came back without an answer (network, permissions, throttling, unknown function). */
export class ProrataTransportError extends ProrataClientError {
  constructor(message: string, cause: unknown) {
    super('transport', message, { cause });
  }
}

function inputError(error: z.ZodError, remote: boolean): ProrataInputError {
  const issue = error.issues[0];
  return new ProrataInputError(['input', ...issuePath(issue)].join('.'), issue?.message ?? 'invalid', remote);
}

/** The typed client (see the module comment). Construct one per process and reuse it. */
export class ProrataClient {
  private readonly invoke: InvokeFunction;
  private readonly functions: ProrataFunctionNames;

  constructor(options: ProrataClientOptions) {
    this.functions = options.functions;
    if (options.invoke) this.invoke = options.invoke;
    else {
      const lambda = options.lambda ?? new LambdaClient({});
      this.invoke = (command) => lambda.send(command);
    }
  }

  /** Previews a change: the exact invoice, accruals, period-end effect and balance, or the rejection. Writes nothing. */
  previewChange(request: ChangeRequest): Promise<ChangeResult> {
    return this.change({ ...request, preview: true });
  }

  /**
   * Applies a change: the same result its preview gave at the same `asOf` (R19). Idempotent:
   * a retry with the same request (or `idempotencyKey`) returns the first response and changes
   * nothing, so an SDK retry after a timeout is safe. `asOf` must be within a day before and
   * five minutes after the function's clock.
   */
  applyChange(request: ChangeRequest): Promise<ChangeResult> {
    return this.change({ ...request, preview: false });
  }

  /** Runs (or with `dryRun: true`, previews) a billing job on demand and returns its report. */
  async runJob(job: JobName, request: JobRequest): Promise<JobResult> {
    const parsed = jobInvocationSchema.safeParse(request);
    if (!parsed.success) throw inputError(parsed.error, false);
    return this.call(this.functions[job], parsed.data, jobResultSchema);
  }

  private async change(request: z.input<typeof changeInvocationSchema>): Promise<ChangeResult> {
    const parsed = changeInvocationSchema.safeParse(request);
    if (!parsed.success) throw inputError(parsed.error, false);
    return this.call(this.functions.changes, parsed.data, changeResultSchema);
  }

  private async call<S extends z.ZodType>(functionName: string, payload: unknown, response: S): Promise<z.output<S>> {
    let result: InvokeResult;
    try {
      result = await this.invoke(new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: JSON.stringify(payload) }));
    } catch (error) {
      throw new ProrataTransportError(`invoking ${functionName}: ${error instanceof Error ? error.message : String(error)}`, error);
    }
    const text = result.Payload ? new TextDecoder().decode(result.Payload) : '';
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new ProrataResponseError(`${functionName} answered with a payload that is not JSON`, text);
    }
    if (result.FunctionError) {
      const failure = (typeof body === 'object' && body !== null ? body : {}) as { errorType?: unknown; errorMessage?: unknown };
      const errorType = typeof failure.errorType === 'string' ? failure.errorType : result.FunctionError;
      const message = typeof failure.errorMessage === 'string' ? failure.errorMessage : text;
      // The engine's ValidationError messages are "field: problem" (shared/domain/errors.ts).
      const field = /^([\w.-]+): ([\s\S]*)$/.exec(message);
      if (errorType === 'ValidationError' && field) throw new ProrataInputError(field[1], field[2], true);
      throw new ProrataFunctionError(functionName, errorType, message);
    }
    const parsed = response.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ProrataResponseError(`${functionName} answered outside its schema at ${issue?.path.join('.') || 'the top level'}: ${issue?.message ?? 'invalid'}`, body);
    }
    return parsed.data;
  }
}
