import type { Dependencies } from '../../shared/jobs/dependencies';
import { awsDependencies } from '../../shared/runtime/aws-dependencies';
import { createJobHandler, type Clock } from '../../shared/runtime/job-handler';
import { withMiddlewares } from '../../shared/runtime/middleware';

/** Builds the invoicing job's handler (see `createJobHandler`); the simulator calls it with its own dependencies and test clock. */
export function createInvoicingHandler(deps: () => Dependencies, clock: Clock = Date.now) {
  return createJobHandler('invoicing', deps, clock);
}

/** The deployed handler. */
export const handler = withMiddlewares(createInvoicingHandler(() => awsDependencies()));
