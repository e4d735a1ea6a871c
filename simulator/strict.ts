import { ValidationError } from '../shared/domain/errors';
import { EVENT_DETAIL_SCHEMAS } from '../shared/contracts/events';

/** Every event type the engine knows, for suggestions. */
const KNOWN_EVENT_TYPES: readonly string[] = Object.keys(EVENT_DETAIL_SCHEMAS);

/** Edit distance (insertions, deletions, substitutions, adjacent transpositions) between two names. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i += 1) {
    for (let j = 1; j < cols; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The known name closest to `name` (case-insensitive edit distance), or undefined when none is
 * close enough to be a plausible typo: at most a third of the longer name, and at least 2 edits.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (!best || distance < best.distance) best = { name: candidate, distance };
  }
  if (!best) return undefined;
  const allowed = Math.max(2, Math.floor(Math.max(name.length, best.name.length) / 3));
  return best.distance <= allowed ? best.name : undefined;
}

/** ` (did you mean "x"?)` when a known name is close, else the list of known names (short lists only). */
function hint(name: string, known: readonly string[]): string {
  const closest = closestName(name, known);
  if (closest) return ` (did you mean "${closest}"?)`;
  if (known.length === 0) return ' (none are defined)';
  return known.length <= 8 ? ` (known: ${known.join(', ')})` : '';
}

/** What a scenario's events may refer to. */
export interface ScenarioNames {
  workspaces: ReadonlyArray<{ id: string }>;
  plans: ReadonlyArray<{ id: string }>;
  addons: ReadonlyArray<{ id: string }>;
  creditPacks: ReadonlyArray<{ id: string }>;
  events: ReadonlyArray<{ type: string; workspace: string } & Record<string, unknown>>;
}

const LENIENT = 'pass --lenient to replay it anyway';

/**
 * Strict mode of the simulator (issue 11 item 7): every event's type must be one the engine
 * knows, and its workspace, plan, add-on and pack ids must be defined in the scenario. A typo
 * (`member.joind`, `upro-monthy`) would otherwise replay as an `unsupported` or `unknown-plan`
 * rejection and the seat would silently go unbilled. Throws `ValidationError` naming the event
 * index and field, suggesting the closest known name. The deployed ingest path does not call
 * this: there, unknown types and ids stay rejections (never dropped).
 */
export function checkScenarioNames(scenario: ScenarioNames): void {
  const workspaces = scenario.workspaces.map((item) => item.id);
  const plans = scenario.plans.map((item) => item.id);
  const addons = scenario.addons.map((item) => item.id);
  const packs = scenario.creditPacks.map((item) => item.id);
  scenario.events.forEach((event, index) => {
    const at = `events.${index}`;
    if (!Object.hasOwn(EVENT_DETAIL_SCHEMAS, event.type)) {
      throw new ValidationError(`${at}.type`, `unknown event type "${event.type}" in event ${index}${hint(event.type, KNOWN_EVENT_TYPES)}; ${LENIENT} as an unsupported rejection`);
    }
    if (!workspaces.includes(event.workspace)) {
      throw new ValidationError(`${at}.workspace`, `unknown workspace "${event.workspace}" in event ${index}${hint(event.workspace, workspaces)}; ${LENIENT}`);
    }
    const references: Array<[field: string, what: string, known: string[]]> = [
      ['plan', 'plan', plans],
      ['addon', 'add-on', addons],
      ['pack', 'credit pack', packs],
    ];
    for (const [field, what, known] of references) {
      const value = event[field];
      // `addon: null` removes the add-on (storage_addon.changed).
      if (typeof value !== 'string' || known.includes(value)) continue;
      throw new ValidationError(`${at}.${field}`, `unknown ${what} "${value}" in event ${index}${hint(value, known)}; ${LENIENT}`);
    }
  });
}
