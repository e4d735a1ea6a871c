import type { Dependencies } from '../../shared/jobs/dependencies';
import { awsDependencies } from '../../shared/runtime/aws-dependencies';
import { createJobHandler } from '../../shared/runtime/job-handler';
import { withMiddlewares } from '../../shared/runtime/middleware';

/** Builds the accrual job's handler (see `createJobHandler`); the simulator calls it with its own dependencies. */
export function createAccrualHandler(deps: () => Dependencies) {
  return createJobHandler('accrual', deps);
}

/** The deployed handler. */
export const handler = withMiddlewares(createAccrualHandler(() => awsDependencies()));
