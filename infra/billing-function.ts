import * as path from 'node:path';
import { CfnResource, Duration, Lazy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
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

/**
 * Memory of every Prorata Lambda, MB. Lambda gives a function CPU in proportion (a full vCPU at
 * 1,769 MB), which `npm run bench` uses to turn measured CPU time into billed duration.
 */
export const FUNCTION_MEMORY_MB = 512;

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
  /**
   * Customer-managed key that encrypts the function's log group. Its key policy must let
   * `logs.<region>.amazonaws.com` use it for this account's log groups (see `ProrataStack`).
   */
  readonly logEncryptionKey: kms.IKey;
  /**
   * Caps (and reserves) concurrent executions, for the scheduled jobs: one run per hour is the
   * norm, so a small cap only queues the rare overlap instead of letting it fan out.
   * @default - unreserved (the account's shared pool)
   */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * Every Prorata Lambda: one place for runtime, architecture, tracing, logging, execution role and
 * bundling defaults, so the handlers cannot drift apart (e.g. one left on x86, without a log
 * retention or with a managed policy that writes to any log group).
 */
export class BillingFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: BillingFunctionProps) {
    // Explicit log group so retention and encryption are managed by the stack instead of "never
    // expire" with a service key (exposed as `fn.logGroup`). It and the role are created in the
    // parent scope: `this` is unusable before super().
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: logs.RetentionDays.ONE_MONTH,
      encryptionKey: props.logEncryptionKey,
    });
    // Own role instead of the generated one, which carries AWSLambdaBasicExecutionRole
    // (logs:CreateLogGroup and writes to every log group in the account): this one may only write
    // to the function's own log group. The grants the function adds later (X-Ray, DLQ, table)
    // land in its default policy.
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${props.handlerDir} function`,
    });
    logGroup.grantWrite(role);
    super(scope, id, {
      entry: path.join(REPO_ROOT, 'functions', props.handlerDir, 'handler.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: FUNCTION_MEMORY_MB,
      timeout: props.timeout ?? DEFAULT_TIMEOUT,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      role,
      deadLetterQueue: props.deadLetterQueue,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
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
    dropRedundantRoleDependency(this, role);
  }
}

/**
 * CDK makes every function `DependsOn` its role, but the function's `Role: Fn::GetAtt` already
 * orders it after the role, so cfn-lint warns (W3005). Keep every other dependency, notably the
 * role's policies, which the GetAtt does not imply: a function must not be invoked before its
 * permissions exist. Computed at synthesis, once CDK has turned construct dependencies into
 * resource dependencies.
 */
function dropRedundantRoleDependency(fn: lambda.Function, role: iam.Role): void {
  const functionResource = fn.node.defaultChild as lambda.CfnFunction;
  const roleResource = role.node.defaultChild as iam.CfnRole;
  functionResource.addOverride(
    'DependsOn',
    Lazy.list({
      produce: () =>
        functionResource
          .obtainDependencies()
          .filter((dependency): dependency is CfnResource => CfnResource.isCfnResource(dependency) && dependency !== roleResource)
          .map((dependency) => dependency.logicalId),
    }),
  );
}
