import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * DynamoDB item actions a Prorata function may be granted on the billing table, written out
 * instead of `table.grantReadWriteData`, which also grants Scan, BatchWriteItem, BatchGetItem,
 * DescribeTable and the stream reads on the table and every index.
 *
 * There is no `TransactWriteItems` IAM action: DynamoDB authorizes each item of a transaction by
 * its own action (Put → PutItem, Update → UpdateItem, Delete → DeleteItem, ConditionCheck →
 * ConditionCheckItem), so `BillingStore.applySteps` needs only the item actions listed here.
 * `BatchGetItem` is the worker's alone: a batch's shared read (`BillingStore.readRenewalBatch`).
 */
export type TableAction = 'GetItem' | 'BatchGetItem' | 'Query' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'ConditionCheckItem';

/** What one function may do on the table; see {@link TABLE_ACCESS}. */
export interface TableAccess {
  /** Item actions on the base table. */
  readonly actions: readonly TableAction[];
  /** `Query` on the `gsi1` due index: only the scheduled jobs look up what is due (`BillingStore.findDue`). */
  readonly queryDueIndex: boolean;
}

/** The table's only index (the due index), as `BillingStore.findDue` queries it. */
export const DUE_INDEX_NAME = 'gsi1';

/**
 * The item actions of the functions that apply billing: the store's reads (GetItem, Query), its
 * conditional writes and transactions (PutItem, ConditionCheckItem), the member-sequence counter
 * and idempotency records (UpdateItem) and marker removal (DeleteItem). One set for the five
 * rather than per-function subsets because they share the store's write paths (`applySteps`,
 * `recordRejection`, `enqueueEvent`, idempotency records) and a missing action only shows up as
 * an AccessDenied in production: DynamoDB Local does not check IAM.
 */
const BILLING_ACTIONS: readonly TableAction[] = ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'ConditionCheckItem'];

/**
 * Table access per function (the keys are the `functions/` directory names). The publisher
 * announces invoices from their stream records (a Query of a big invoice's line pages) and handles
 * outbox entries: it lists them (Query on the `OUTBOX#` partitions of the base table, never the
 * index), reads and claims one (GetItem, conditional UpdateItem) and deletes it once published; the
 * one item it creates is an outbox entry for an invoice whose announcement failed (a conditional
 * PutItem). `test/infra/prorata-stack.test.ts` asserts the resulting policies exactly.
 */
export const TABLE_ACCESS = {
  ingest: { actions: BILLING_ACTIONS, queryDueIndex: false },
  invoicing: { actions: BILLING_ACTIONS, queryDueIndex: true },
  accrual: { actions: BILLING_ACTIONS, queryDueIndex: true },
  changes: { actions: BILLING_ACTIONS, queryDueIndex: false },
  // Bills the one workspace a message names: the same writes as the jobs, never the due index;
  // a batch's subscriptions, balances and catalog are read together (BatchGetItem on the table).
  worker: { actions: ['BatchGetItem', ...BILLING_ACTIONS], queryDueIndex: false },
  publisher: { actions: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'], queryDueIndex: false },
} as const satisfies Record<string, TableAccess>;

/** Actions that change items: their callers also get `kms:GenerateDataKey` on the table key. */
const WRITE_ACTIONS: ReadonlySet<TableAction> = new Set<TableAction>(['PutItem', 'UpdateItem', 'DeleteItem']);

/**
 * KMS actions on the table's customer-managed key. DynamoDB decrypts the table key with the
 * caller's permissions (a write without `kms:Decrypt` is denied too), `kms:DescribeKey` is on
 * DynamoDB's list of what a caller needs on the key, and writers get `kms:GenerateDataKey`.
 * No `Encrypt`, `ReEncrypt*` or wildcard `GenerateDataKey*`, which the CDK table grants add.
 */
export function tableKeyActions(access: TableAccess): string[] {
  const writes = access.actions.some((action) => WRITE_ACTIONS.has(action));
  return writes ? ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey'] : ['kms:Decrypt'];
}

/**
 * Adds explicit statements for `access` to a function's role: the item actions on the table ARN,
 * `Query` on the due index's own ARN (not `index/*`) where needed, and the table key actions.
 */
export function grantTableAccess(fn: lambda.IFunction, table: dynamodb.ITable, key: kms.IKey, access: TableAccess): void {
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: access.actions.map((action) => `dynamodb:${action}`),
      resources: [table.tableArn],
    }),
  );
  if (access.queryDueIndex) {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${table.tableArn}/index/${DUE_INDEX_NAME}`],
      }),
    );
  }
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: tableKeyActions(access), resources: [key.keyArn] }));
}
