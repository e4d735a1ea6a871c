import '../simulator/quiet';
import { describeFigures, replayWithFaults, type FaultReplayOptions } from '../simulator/fault-replay';
import { startLocalDynamo } from '../simulator/dynamo-local';

/**
 * `npm run faults`: the fault-injection replay at a larger scale than `npm test` runs it
 * (`test/integration/fault-injection.test.ts`): FAULT_WORKSPACES workspaces (default 60) from
 * FAULT_FROM to FAULT_UNTIL (default Jan 1 – Apr 2, 2027) at FAULT_RATE (default 0.1), with
 * faults in ingest too. Exits non-zero if the ledger under faults differs from the fault-free one.
 */
async function main(): Promise<void> {
  const options: FaultReplayOptions = {
    workspaces: Number(process.env.FAULT_WORKSPACES ?? 60),
    from: process.env.FAULT_FROM ?? '2027-01-01T00:00:00Z',
    until: process.env.FAULT_UNTIL ?? '2027-04-02T00:00:00Z',
    faultRate: Number(process.env.FAULT_RATE ?? 0.1),
    seed: Number(process.env.FAULT_SEED ?? 20270101),
    faultyIngest: process.env.FAULT_INGEST !== 'false',
  };
  const dynamo = await startLocalDynamo();
  try {
    const figures = await replayWithFaults(dynamo, options);
    console.log(describeFigures(options, figures));
    if (figures.differences.length > 0) {
      console.error(figures.differences.slice(0, 20).join('\n'));
      process.exitCode = 1;
    }
  } finally {
    await dynamo.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
