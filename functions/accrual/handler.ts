import type { Dependencies } from '../../shared/jobs/dependencies';
import { awsDependencies } from '../../shared/runtime/aws-dependencies';
import { createJobHandler, type Clock } from '../../shared/runtime/job-handler';
import { withMiddlewares } from '../../shared/runtime/middleware';

/** Builds the accrual job's handler (see `createJobHandler`); the simulator calls it with its own dependencies and test clock. */
export function createAccrualHandler(deps: () => Dependencies, clock: Clock = Date.now) {
  return createJobHandler('accrual', deps, clock);
}

/** The deployed handler. */
export const handler = withMiddlewares(createAccrualHandler(() => awsDependencies()));
