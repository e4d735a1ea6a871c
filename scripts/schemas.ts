import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { renderPublishedSchemas } from '../simulator/published-schemas';

/** Where the published JSON Schemas live. */
const SCHEMAS_DIR = join(__dirname, '..', 'schemas');

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(entries.map((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : Promise.resolve([join(dir, entry.name)]))));
  return nested.flat();
}

/**
 * `npm run schemas`: writes every published JSON Schema into `schemas/` from the zod schemas
 * and removes files no longer published, so the directory is exactly what the code says.
 */
async function main(): Promise<void> {
  const rendered = renderPublishedSchemas();
  for (const file of await filesUnder(SCHEMAS_DIR)) {
    if (!rendered.has(relative(SCHEMAS_DIR, file))) await rm(file);
  }
  for (const [file, text] of rendered) {
    await mkdir(dirname(join(SCHEMAS_DIR, file)), { recursive: true });
    await writeFile(join(SCHEMAS_DIR, file), text);
  }
  process.stdout.write(`wrote ${rendered.size} schemas to ${relative(process.cwd(), SCHEMAS_DIR) || '.'}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`schemas failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
