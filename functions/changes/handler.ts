import { assertChangeWithinWindow, parseChangeInvocation } from '../../shared/contracts/events';
import { requestChange, type ChangeResult } from '../../shared/jobs/changes';
import type { Dependencies } from '../../shared/jobs/dependencies';
import { awsDependencies } from '../../shared/runtime/aws-dependencies';
import type { Clock } from '../../shared/runtime/job-handler';
import { withMiddlewares } from '../../shared/runtime/middleware';
import { logger } from '../../shared/runtime/observability';

/**
 * Builds the `changes` handler: `{ workspace, change, requestedBy, asOf, preview }`. A preview
 * (the default) returns the exact invoice lines, totals, credit applied, accrued lines and
 * what happens at period end, or the rejection, and writes nothing; `preview: false` applies
 * the same plan (R19). Applying is refused at an `asOf` more than a day before or five
 * minutes after `clock` (the simulator passes its test clock).
 */
export function createChangesHandler(deps: () => Dependencies, clock: Clock = Date.now) {
  return async (input: unknown): Promise<ChangeResult> => {
    const invocation = parseChangeInvocation(input);
    assertChangeWithinWindow(invocation, clock());
    const result = await requestChange(deps(), invocation);
    logger.info('change', { workspace: invocation.workspace, type: invocation.change.type, preview: invocation.preview, status: result.status });
    return result;
  };
}

/** The deployed handler. */
export const handler = withMiddlewares(createChangesHandler(() => awsDependencies()));
