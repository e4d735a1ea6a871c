import type { Dependencies } from '../../shared/jobs/dependencies';
import { awsDependencies } from '../../shared/runtime/aws-dependencies';
import { createJobHandler } from '../../shared/runtime/job-handler';
import { withMiddlewares } from '../../shared/runtime/middleware';

/** Builds the invoicing job's handler (see `createJobHandler`); the simulator calls it with its own dependencies. */
export function createInvoicingHandler(deps: () => Dependencies) {
  return createJobHandler('invoicing', deps);
}

/** The deployed handler. */
export const handler = withMiddlewares(createInvoicingHandler(() => awsDependencies()));
