import '../simulator/quiet';
import { parseArgs } from 'node:util';
import { measureCapacity, type OperationCost } from '../simulator/capacity-scenarios';
import { startLocalDynamo } from '../simulator/dynamo-local';

/**
 * `npm run capacity [-- --workspaces N]`: the DynamoDB capacity each billing operation consumes
 * per workspace, measured against DynamoDB Local with `ReturnConsumedCapacity` on every call
 * (`simulator/capacity-meter.ts`), and the largest item of each kind. README "Cost and scale"
 * quotes it.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { workspaces: { type: 'string', default: '10' } } });
  const workspaces = Number(values.workspaces);
  if (!Number.isInteger(workspaces) || workspaces < 1) throw new Error(`--workspaces must be a positive whole number, not ${values.workspaces}`);
  const dynamo = await startLocalDynamo();
  try {
    const figures = await measureCapacity(dynamo, workspaces);
    const row = (name: string, cost: OperationCost) => {
      const ops = Object.entries(cost.detail.byOperation)
        .map(([op, units]) => `${op} ×${(units.calls / workspaces).toFixed(1)}`)
        .join(', ');
      const targets = Object.entries(cost.detail.byTarget)
        .map(([target, units]) => `${target.split('/')[1] ?? 'table'} ${(units.wru / workspaces).toFixed(1)} WRU ${(units.rru / workspaces).toFixed(1)} RRU`)
        .join(', ');
      console.log(`${name.padEnd(28)} ${cost.wru.toFixed(1).padStart(5)} WRU ${cost.rru.toFixed(1).padStart(5)} RRU  ${ops}  [${targets}]`);
    };
    console.log(`capacity per workspace, DynamoDB Local, ${workspaces} workspaces per scenario`);
    row('quiet monthly renewal', figures.quietRenewal);
    row('  + publishing its event', figures.quietRenewalPublish);
    const allIn = figures.quietRenewal.wru + figures.quietRenewalPublish.wru;
    console.log(
      `${'  = all in'.padEnd(28)} ${allIn.toFixed(1).padStart(5)} WRU ${figures.quietRenewal.rru.toFixed(1).padStart(5)} RRU  (renewal and the publisher's writes; the publisher's stream path reads nothing)`,
    );
    row('quiet, 1 month of churn', figures.quietRenewalWithMonthOfHistory);
    row(`quiet, ${figures.historyMonths} months of churn`, figures.quietRenewalWithHistory);
    row('renewal with a proration', figures.renewalWithProrations);
    row('true-up (annual plan)', figures.trueUp);
    row('accrual step (1 proration)', figures.accrualStep);
    row('member event (ingest)', figures.memberEvent);
    console.log(
      `each scheduled run, once: ${figures.runFixed.rru.toFixed(1)} RRU in ${figures.runFixed.calls} requests (catalog and due index; 16 shards in the stack: 16 queries), shared by every workspace due`,
    );
    console.log(
      `largest item of each kind (bytes): ${Object.entries(figures.itemBytes)
        .sort()
        .map(([kind, bytes]) => `${kind} ${bytes}`)
        .join(', ')}`,
    );
  } finally {
    await dynamo.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
