import type { BillingStore } from '../store/dynamo-store';
import type { RetryPolicy } from './retry';

/** An engine event on its way to EventBridge. */
export interface PublishedEvent {
  id: string;
  detailType: string;
  detail: Record<string, unknown>;
}

/** Sends engine events (EventBridge in AWS; a recorder in the simulator). */
export interface EventPublisher {
  publish(events: readonly PublishedEvent[]): Promise<void>;
}

/** What the jobs need from the outside world, injected so the simulator drives the same code. */
export interface Dependencies {
  store: BillingStore;
  publisher: EventPublisher;
  /** How the jobs retry a workspace after a transient error; `DEFAULT_RETRY_POLICY` for what is left out (tests inject sleep and random). */
  retry?: Partial<RetryPolicy>;
}

/** Retries `work` when a concurrent writer won (`ConflictError`): the re-plan sees its result. */
export async function withConflictRetry<T>(work: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !(error instanceof Error && error.name === 'ConflictError')) throw error;
    }
  }
}
