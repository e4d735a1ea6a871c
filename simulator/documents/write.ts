import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Scenario } from '../scenario';
import type { SimulationResult } from '../simulate';
import { renderScenarioDocuments } from './index';

/** Writes one HTML page per workspace of a replay into `dir` and returns their absolute paths. */
export async function writeScenarioDocuments(dir: string, scenario: Scenario, result: Pick<SimulationResult, 'invoices' | 'balances'>): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const page of renderScenarioDocuments(scenario, result)) {
    const path = resolve(join(dir, page.fileName));
    await writeFile(path, page.html);
    paths.push(path);
  }
  return paths;
}
