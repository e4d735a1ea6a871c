import * as path from 'path';
import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** Repository root: bundling resolves `package-lock.json` and `functions/` from here. */
export const REPO_ROOT = path.join(__dirname, '..');

/** Default timeout for event-driven handlers; jobs pass `JOB_TIMEOUT`. */
export const DEFAULT_TIMEOUT = Duration.seconds(30);

/** Lambda's maximum; the invoicing and accrual jobs sweep every workspace due in the hour. */
export const JOB_TIMEOUT = Duration.minutes(15);

/** Properties of a {@link BillingFunction}: only what legitimately varies between Prorata's Lambdas. */
export interface BillingFunctionProps {
  /** Directory under `functions/` that holds `handler.ts` exporting `handler`, e.g. `'ingest'`. */
  readonly handlerDir: string;
  /** Shown in the console; say what triggers the function. */
  readonly description?: string;
  /** @default DEFAULT_TIMEOUT (30 s) */
  readonly timeout?: Duration;
  /** Merged over the shared variables (`POWERTOOLS_SERVICE_NAME`, `NODE_OPTIONS`). */
  readonly environment?: Record<string, string>;
  /**
   * Receives events whose asynchronous invocation still failed after Lambda's own retries.
   * A DLQ rather than an on-failure destination because the message body is then the original
   * event, which can be replayed as-is with `aws lambda invoke --payload`.
   * @default - none (failed asynchronous events are dropped after retries)
   */
  readonly deadLetterQueue?: sqs.IQueue;
}

/**
 * Every Prorata Lambda: one place for runtime, architecture, tracing, logging and bundling
 * defaults, so the handlers cannot drift apart (e.g. one left on x86 or without a log retention).
 */
export class BillingFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: BillingFunctionProps) {
    // Explicit log group so retention is managed by the stack instead of "never expire" (exposed
    // as `fn.logGroup`). Created in the parent scope: `this` is unusable before super().
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: logs.RetentionDays.ONE_MONTH,
    });
    super(scope, id, {
      entry: path.join(REPO_ROOT, 'functions', props.handlerDir, 'handler.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout: props.timeout ?? DEFAULT_TIMEOUT,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      deadLetterQueue: props.deadLetterQueue,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'prorata',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        minify: true,
        sourceMap: true,
        // Stack traces only need line mappings; embedding the sources would double the bundle.
        sourcesContent: false,
        // Bundle the AWS SDK v3 instead of using the runtime's copy: package.json pins exact
        // client versions and the runtime's copy changes under us without a deploy.
        bundleAwsSDK: true,
        // Bundle with the local esbuild devDependency; CDK would only fall back to Docker if it were missing.
        forceDockerBundling: false,
      },
    });
  }
}
