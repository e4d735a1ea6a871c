import {
  ConditionalCheckFailedException,
  InternalServerError,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ThrottlingException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { fnv1a } from '../shared/domain/hash';

/** A seeded PRNG (mulberry32): uniform in [0, 1), the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * What an injected fault looks like to the caller. `before` faults fail a call that never reached
 * the table; `after` faults fail one that went through (its write landed, the response was lost).
 */
export type FaultKind =
  | 'throttling' // ProvisionedThroughputExceeded, Throttling, RequestLimitExceeded (before)
  | 'server-error' // InternalServerError, HTTP 500 (before or after)
  | 'network' // ECONNRESET, ECONNREFUSED before; TimeoutError, ECONNRESET after
  | 'transaction-conflict' // TransactionCanceled(TransactionConflict): a concurrent transaction (before)
  | 'transaction-throttled' // TransactionCanceled(ThrottlingError) (before)
  | 'condition-failed'; // ConditionalCheckFailed or TransactionCanceled(ConditionalCheckFailed) (after)

/** How often and how calls fail. */
export interface FaultOptions {
  /** Share of calls that fail, 0–1. */
  rate: number;
  seed: number;
  /** Share of the faults raised after the call went through; half by default. */
  afterLanding?: number;
}

/** What the wrapper did so far. */
export interface FaultStats {
  calls: number;
  faults: number;
  /** Faults raised after the call went through (a write landed, the caller saw an error). */
  afterLanding: number;
  byKind: Record<FaultKind, number>;
}

/** A client whose `send` fails as configured, its counters, and a switch. */
export interface FaultyClient<C> {
  client: C;
  stats: FaultStats;
  /** Faults are injected only while this is true (setting it false lets a test read back cleanly). */
  enabled: boolean;
}

interface Command {
  input?: unknown;
}

interface Sender {
  send(command: never, ...rest: never[]): Promise<unknown>;
}

/**
 * Wraps a DynamoDB client (`DynamoDBDocumentClient` or `DynamoDBClient`) so that `options.rate`
 * of its `send` calls fail, `afterLanding` of them after the call went through, with the errors
 * the real service and network give (see `FaultKind`). Faults sit above the SDK's own retries, as
 * if those were spent, so every one reaches the engine's code.
 *
 * Which calls fail is decided per call from the seed, the command and its input and how often that
 * same call was made, not from the order of calls: concurrent workspaces interleave their calls
 * differently on every run, and a failing seed must fail the same calls again. (A publisher's claim
 * carries a fresh claimant id, so its faults alone vary from run to run.)
 *
 * A condition failure is only ever raised after the call went through, and only on a conditional
 * write: DynamoDB reports one only when the condition is false, which without a concurrent writer
 * happens when a request is sent again after its first attempt landed.
 */
export function withFaults<C extends Sender>(client: C, options: FaultOptions): FaultyClient<C> {
  const after = options.afterLanding ?? 0.5;
  const seen = new Map<number, number>();
  const stats: FaultStats = {
    calls: 0,
    faults: 0,
    afterLanding: 0,
    byKind: { throttling: 0, 'server-error': 0, network: 0, 'transaction-conflict': 0, 'transaction-throttled': 0, 'condition-failed': 0 },
  };
  const faulty: FaultyClient<C> = { client, stats, enabled: true };
  const send = async (command: Command, ...rest: unknown[]): Promise<unknown> => {
    const forward = () => Reflect.apply(client.send, client, [command, ...rest]) as Promise<unknown>;
    stats.calls += 1;
    if (!faulty.enabled) return forward();
    const name = command.constructor.name;
    const identity = fnv1a(`${name}|${JSON.stringify(command.input)}`);
    const occurrence = seen.get(identity) ?? 0;
    seen.set(identity, occurrence + 1);
    const random = seededRandom(options.seed ^ identity ^ Math.imul(occurrence + 1, 0x9e3779b1));
    if (random() >= options.rate) return forward();
    const shape = shapeOf(name, command.input);
    const landed = random() < after;
    const kinds: FaultKind[] = landed
      ? ['network', 'server-error', ...(shape.conditional ? (['condition-failed', 'condition-failed'] as const) : [])]
      : ['throttling', 'throttling', 'network', 'server-error', ...(shape.transaction ? (['transaction-conflict', 'transaction-throttled'] as const) : [])];
    const kind = kinds[Math.floor(random() * kinds.length)];
    const error = faultError(kind, landed, shape, random);
    stats.faults += 1;
    stats.byKind[kind] += 1;
    if (!landed) throw error;
    stats.afterLanding += 1;
    await forward();
    throw error;
  };
  faulty.client = new Proxy(client, {
    get(target, property, receiver) {
      return property === 'send' ? send : Reflect.get(target, property, receiver);
    },
  });
  return faulty;
}

interface CallShape {
  transaction: boolean;
  conditional: boolean;
  /** Transaction items, for the cancellation reasons. */
  items: number;
  /** The first conditional transaction item: the one a resend finds already written. */
  conditionalItem: number;
}

function shapeOf(name: string, input: unknown): CallShape {
  const fields = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
  if (/^TransactWrite/.test(name) && Array.isArray(fields.TransactItems)) {
    const items = fields.TransactItems as Array<Record<string, { ConditionExpression?: unknown } | undefined>>;
    const conditionalItem = items.findIndex((item) => Object.values(item).some((action) => typeof action?.ConditionExpression === 'string'));
    return { transaction: true, conditional: conditionalItem >= 0, items: items.length, conditionalItem };
  }
  const write = /^(Put|Update|Delete)/.test(name);
  return { transaction: false, conditional: write && typeof fields.ConditionExpression === 'string', items: 0, conditionalItem: -1 };
}

const META_400 = { $metadata: { httpStatusCode: 400 } };

function faultError(kind: FaultKind, landed: boolean, shape: CallShape, random: () => number): Error {
  const pick = <T>(options: readonly T[]): T => options[Math.floor(random() * options.length)];
  switch (kind) {
    case 'throttling':
      return pick([
        () => new ProvisionedThroughputExceededException({ message: 'The level of configured provisioned throughput for the table was exceeded (injected)', ...META_400 }),
        () => new ThrottlingException({ message: 'Throughput exceeds the current capacity of your table or index (injected)', ...META_400 }),
        () => new RequestLimitExceeded({ message: 'Throughput exceeds the current throughput limit for your account (injected)', ...META_400 }),
      ])();
    case 'server-error':
      return new InternalServerError({ message: 'Internal server error (injected)', $metadata: { httpStatusCode: 500 } });
    case 'network':
      return landed
        ? pick([
            () => Object.assign(new Error('Connection timed out after 3000 ms (injected)'), { name: 'TimeoutError' }),
            () => Object.assign(new Error('read ECONNRESET (injected)'), { code: 'ECONNRESET' }),
          ])()
        : pick([() => Object.assign(new Error('connect ECONNREFUSED (injected)'), { code: 'ECONNREFUSED' }), () => Object.assign(new Error('socket hang up (injected)'), { code: 'ECONNRESET' })])();
    case 'transaction-conflict':
    case 'transaction-throttled':
      return canceled(shape, kind === 'transaction-conflict' ? 'TransactionConflict' : 'ThrottlingError', 0);
    case 'condition-failed':
      return shape.transaction
        ? canceled(shape, 'ConditionalCheckFailed', shape.conditionalItem)
        : new ConditionalCheckFailedException({ message: 'The conditional request failed (injected)', ...META_400 });
  }
}

function canceled(shape: CallShape, code: string, at: number): TransactionCanceledException {
  const reasons = Array.from({ length: shape.items }, (_, index) => ({ Code: index === at ? code : 'None' }));
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((reason) => reason.Code).join(', ')}] (injected)`,
    ...META_400,
    CancellationReasons: reasons,
  });
}
