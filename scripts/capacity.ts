import '../simulator/quiet';
import { parseArgs } from 'node:util';
import { formatCapacity, measureCapacity } from '../simulator/capacity-scenarios';
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
    for (const line of formatCapacity(figures)) console.log(line);
  } finally {
    await dynamo.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
