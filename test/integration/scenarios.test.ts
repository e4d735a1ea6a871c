import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalDynamo, type LocalDynamo } from '../../simulator/dynamo-local';
import { summarise } from '../../simulator/expectations';
import { loadScenarioFile } from '../../simulator/run-scenario';
import { simulate } from '../../simulator/simulate';

const dir = join(__dirname, '..', '..', 'scenarios');
const files = readdirSync(dir).filter((file) => file.endsWith('.json')).sort();

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startLocalDynamo();
}, 60000);
afterAll(async () => {
  await dynamo?.stop();
});

/**
 * Every bundled example replays through the real handlers to the amounts in its `expected`
 * block, which were worked out by hand from the rules (see each scenario's description).
 */
describe('bundled scenarios replay to their hand-checked amounts', () => {
  test.each(files)('%s', async (file) => {
    const scenario = await loadScenarioFile(join(dir, file));
    expect(scenario.expected).toBeDefined();
    const result = await simulate(scenario, dynamo);
    expect(summarise(result)).toEqual(scenario.expected);
  });
});
