import './quiet';
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { writeScenarioDocuments } from './documents/write';
import { renderReport } from './report';
import { loadScenarioFile, runScenarios } from './run-scenario';

/**
 * `npm run demo`: replays every bundled scenario in `scenarios/` through the real handlers
 * against one in-memory DynamoDB Local, prints each invoice as a table, and stops it; then
 * writes each scenario's invoice pages (one per workspace) under `demo-output/` (or
 * `DEMO_OUTPUT`) and prints where they are.
 */
async function main(): Promise<void> {
  const dir = join(__dirname, '..', 'scenarios');
  const files = (await readdir(dir)).filter((file) => file.endsWith('.json')).sort();
  const scenarios = await Promise.all(files.map((file) => loadScenarioFile(join(dir, file))));
  const started = Date.now();
  const results = await runScenarios(scenarios);
  results.forEach((result, index) => {
    const scenario = scenarios[index];
    process.stdout.write(`${'='.repeat(100)}\n${scenario.description ? `${scenario.description}\n` : ''}${renderReport(scenario.name, result)}\n\n`);
  });
  process.stdout.write(`${scenarios.length} scenarios replayed against DynamoDB Local in ${((Date.now() - started) / 1000).toFixed(1)} s.\n\nInvoice pages (open in a browser):\n`);
  const out = process.env.DEMO_OUTPUT ?? join(__dirname, '..', 'demo-output');
  for (const [index, result] of results.entries()) {
    for (const path of await writeScenarioDocuments(join(out, basename(files[index], '.json')), scenarios[index], result)) process.stdout.write(`  ${path}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
