import { awsDependencies, awsWorkerOptions } from '../../shared/runtime/aws-dependencies';
import { withMiddlewares } from '../../shared/runtime/middleware';
import { createWorkerHandler } from '../../shared/runtime/worker-handler';

/** The deployed worker: bills the workspaces the dispatchers queued, one per message (see `createWorkerHandler`). */
export const handler = withMiddlewares(createWorkerHandler(() => awsDependencies(), awsWorkerOptions()));
