import { parseChangeInvocation } from '../../shared/contracts/events';
import { requestChange, type ChangeResult } from '../../shared/jobs/changes';
import type { Dependencies } from '../../shared/jobs/dependencies';
import { awsDependencies } from '../../shared/runtime/aws-dependencies';
import { withMiddlewares } from '../../shared/runtime/middleware';
import { logger } from '../../shared/runtime/observability';

/**
 * Builds the `changes` handler: `{ workspace, change, requestedBy, asOf, preview }`. A preview
 * (the default) returns the exact invoice lines, totals, credit applied, accrued lines and
 * what happens at period end, or the rejection, and writes nothing; `preview: false` applies
 * the same plan (R19).
 */
export function createChangesHandler(deps: () => Dependencies) {
  return async (input: unknown): Promise<ChangeResult> => {
    const invocation = parseChangeInvocation(input);
    const result = await requestChange(deps(), invocation);
    logger.info('change', { workspace: invocation.workspace, type: invocation.change.type, preview: invocation.preview, status: result.status });
    return result;
  };
}

/** The deployed handler. */
export const handler = withMiddlewares(createChangesHandler(() => awsDependencies()));
