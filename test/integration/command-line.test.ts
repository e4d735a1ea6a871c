/**
 * The commands' own lines (issue 11 item 7): flags are parsed strictly (`node:util` parseArgs),
 * a scenario is strict by default, and `configure` says what to set when it cannot reach
 * DynamoDB. Each failure: non-zero exit, one line on stderr, no stack trace. None of these
 * start DynamoDB Local (they fail before it); the one successful run writes the CSV export.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function run(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, script), ...args], { cwd: ROOT, env, timeout: 90000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

function expectOneLine(result: { stderr: string; stdout: string }): void {
  expect(result.stderr).not.toMatch(/^ {4}at /m);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stdout).toBe('');
}

const dir = mkdtempSync(join(tmpdir(), 'prorata-cli-'));
function scenarioFile(events: Array<Record<string, unknown>>): string {
  const path = join(dir, `scenario-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      currency: 'USD',
      plans: [{ id: 'upro-monthly', name: 'uPro', interval: 'month', seatPrice: '70.00' }],
      workspaces: [{ id: 'acme' }],
      events: [{ at: '2026-12-23T09:00:00Z', type: 'member.joined', workspace: 'acme', member: 'u1', role: 'owner' }, ...events],
      until: '2027-01-01T12:00:00Z',
    }),
  );
  return path;
}

describe('npm run simulate: strict flags and strict scenarios', () => {
  test('an unknown flag --jsno: exit 2, the flag named with its closest flag', async () => {
    const result = await run('simulator/cli.ts', [scenarioFile([]), '--jsno']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^unknown option --jsno \(did you mean --json\?\)\. usage: npm run simulate -- FILE/);
    expectOneLine(result);
  });

  test('an event type member.joind: exit 1, naming event 1 and member.joined', async () => {
    const result = await run('simulator/cli.ts', [scenarioFile([{ at: '2026-12-24T09:00:00Z', type: 'member.joind', workspace: 'acme', member: 'u2' }])]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^invalid scenario: events\.1\.type: unknown event type "member\.joind" in event 1 \(did you mean "member\.joined"\?\); pass --lenient/);
    expectOneLine(result);
  });

  test('a plan id typo: exit 1, naming event 1 and the plan', async () => {
    const result = await run('simulator/cli.ts', [scenarioFile([{ at: '2026-12-23T10:00:00Z', type: 'subscription.started', workspace: 'acme', plan: 'upro-montly' }])]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^invalid scenario: events\.1\.plan: unknown plan "upro-montly" in event 1 \(did you mean "upro-monthly"\?\)/);
    expectOneLine(result);
  });

  test('--lenient replays the typo as an unsupported rejection; --csv writes the export', async () => {
    const csv = join(dir, 'out', 'invoices.csv');
    const file = scenarioFile([
      { at: '2026-12-23T10:00:00Z', type: 'subscription.started', workspace: 'acme', plan: 'upro-monthly' },
      { at: '2026-12-24T09:00:00Z', type: 'member.joind', workspace: 'acme', member: 'u2' },
    ]);
    const result = await run('simulator/cli.ts', [file, '--lenient', '--json', '--csv', csv]);
    expect(result.code).toBe(0);
    const document = JSON.parse(result.stdout) as { rejections: Array<{ type: string; reason: string }>; invoices: Array<{ id: string; number: string }> };
    expect(document.rejections).toEqual([expect.objectContaining({ type: 'member.joind', reason: 'unsupported' })]);
    // The number follows the id in the document; its prefix is derived from the id `acme` (README, "Invoice numbers").
    expect(Object.keys(document.invoices[0]).slice(0, 2)).toEqual(['id', 'number']);
    expect(document.invoices[0]).toMatchObject({ id: 'inv_acme_2026-12-23_first', number: 'ACME-3ZJJ-0001' });
    expect(existsSync(csv)).toBe(true);
    expect(readFileSync(csv, 'utf8').split('\r\n')[1]).toMatch(/^ACME-3ZJJ-0001,inv_acme_2026-12-23_first,acme,2026-12-23,first,seats,/);
    expect(result.stderr).toMatch(/wrote \d+ invoice lines to /);
  }, 90000);
});

describe('npm run configure: strict flags, and what to set when DynamoDB is out of reach', () => {
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ currency: 'USD', plans: [{ id: 'p', name: 'P', interval: 'month', seatPrice: '1.00' }], workspaces: [{ id: 'acme' }] }));
  // No region, endpoint, profile or credentials from this machine (HOME holds no ~/.aws).
  const bare: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_') && key !== 'DYNAMODB_ENDPOINT' && key !== 'TABLE_NAME'));
  const offline = { ...bare, HOME: dir, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

  test('an unknown flag --tabel: exit 2, suggesting --table', async () => {
    const result = await run('scripts/configure.ts', [config, '--tabel', 'x'], offline);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^unknown option --tabel \(did you mean --table\?\)\. usage: npm run configure/);
    expectOneLine(result);
  });

  test('no region and no endpoint: names AWS_REGION and DYNAMODB_ENDPOINT', async () => {
    const result = await run('scripts/configure.ts', [config, '--table', 'prorata'], offline);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^configure failed \(no-region\): no AWS region: set AWS_REGION .* or DYNAMODB_ENDPOINT=http:\/\/localhost:8000 for DynamoDB Local/);
    expectOneLine(result);
  });

  test('an endpoint where nothing listens: says it cannot reach it and what to set', async () => {
    const result = await run('scripts/configure.ts', [config, '--table', 'prorata'], { ...offline, DYNAMODB_ENDPOINT: 'http://127.0.0.1:9' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^configure failed \(unreachable\): cannot reach DynamoDB at http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\).*DYNAMODB_ENDPOINT/);
    expectOneLine(result);
  });
});
