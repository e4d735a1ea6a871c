import Decimal from 'decimal.js';
import { DEFAULT_SETTINGS, type Catalog, type Plan, type Workspace } from '../shared/domain/catalog';
import { planBillingRun, startSubscription, type BillingStep } from '../shared/domain/engine';
import { emptyBalance, type Balance } from '../shared/domain/invoice';
import type { MemberEvent } from '../shared/domain/members';
import type { SubscriptionState } from '../shared/domain/subscription';

/** What `measureCoreSpeed` found: one figure per round, best first, and the decimal.js floor beside it. */
export interface CoreSpeed {
  /** Quiet monthly renewals planned per second on one core, per round. */
  renewalsPerSecond: number[];
  /** `new Decimal(price).times(qty).toDecimalPlaces(2)` per second on one core, per round. */
  decimalFloorPerSecond: number[];
  /** For reference: renewals after a month of 12 seat changes (12 prorations accrued, then billed), per round. */
  busyRenewalsPerSecond: number[];
  /** Best renewal round over best floor round: how close the core is to bare decimal.js. */
  ratio: number;
  /** The workload, for the printed line. */
  workload: string;
}

const plan: Plan = { id: 'pro', name: 'Pro', interval: 'month', seatPrice: '30.00', seatMode: 'flexible', minimumSeats: 1, maximumSeats: null, storageGb: 0, aiCreditsPerPeriod: 0 };
const catalog: Catalog = { plans: [plan], addons: [], creditPacks: [] };
const workspace: Workspace = { id: 'w1', name: 'w1', timezone: 'UTC', currency: 'USD', billingDay: 1, contract: 'standard', paymentMethod: true, settings: DEFAULT_SETTINGS };
const MEMBERS = 25;

function applyAll(state: { subscription: SubscriptionState; balance: Balance }, steps: readonly BillingStep[]): void {
  for (const step of steps) {
    if (step.subscription) state.subscription = step.subscription;
    if ('balance' in step) state.balance = step.balance;
  }
}

/** Members joining a minute apart on 1 Jan, listed as the store lists them: by id ("m1", "m10", "m11" …), not by time. */
function membersJoined(count: number): MemberEvent[] {
  const events: MemberEvent[] = Array.from({ length: count }, (_, i) => ({
    type: 'member.joined',
    member: `m${i}`,
    role: i === 0 ? 'owner' : 'member',
    at: `2027-01-01T08:${String(i % 60).padStart(2, '0')}:00Z`,
    date: '2027-01-01',
    seq: i,
  }));
  return events.sort((a, b) => (a.member < b.member ? -1 : 1));
}

interface Workload {
  ctx: { workspace: Workspace; catalog: Catalog; members: MemberEvent[] };
  subscription: SubscriptionState;
  balance: Balance;
  asOf: string;
}

/** Starts the subscription on 1 Jan 2027 and renews it on each of `renewals`, as the jobs would have. */
function billedAt(members: MemberEvent[], renewals: readonly string[], asOf: string): Workload {
  const ctx = { workspace, catalog, members };
  const first = startSubscription(ctx, { subscriptionId: 's1', planId: 'pro', at: '2027-01-01T09:00:00Z', date: '2027-01-01', billingDay: 1, seats: null, addonId: null }, emptyBalance('USD'));
  const state = { subscription: first.subscription as SubscriptionState, balance: emptyBalance('USD') };
  applyAll(state, [first]);
  for (const renewal of renewals) applyAll(state, planBillingRun(ctx, state.subscription, [], state.balance, renewal, { invoice: true }));
  return { ctx, ...state, asOf };
}

/**
 * A workspace two renewals old (so it keeps two period records, as every older one does) whose
 * members have not changed since they joined: the April renewal accrues all 31 days of March,
 * finds nothing, and renews at the same 25 seats.
 */
function quietRenewal(): Workload {
  return billedAt(membersJoined(MEMBERS), ['2027-02-01', '2027-03-01'], '2027-04-01');
}

/** The month `npm run bench` has planned since before: 12 seat changes in January, then the February renewal. */
function busyRenewal(): Workload {
  const events = membersJoined(MEMBERS);
  for (let i = 0; i < 12; i += 1) {
    const day = String(2 + ((i * 2) % 27)).padStart(2, '0');
    const at = `2027-01-${day}T10:00:00Z`;
    events.push(
      i % 3 === 2
        ? { type: 'member.removed', member: `c${i - 1}`, at, date: at.slice(0, 10), seq: events.length }
        : { type: 'member.joined', member: `c${i}`, role: 'member', at, date: at.slice(0, 10), seq: events.length },
    );
  }
  return billedAt(events, [], '2027-02-01');
}

/** Plans the workload's run once; fails when it is not what the benchmark says it measures. */
function planOnce(workload: Workload, prorations: number): BillingStep[] {
  const steps = planBillingRun(workload.ctx, workload.subscription, [], workload.balance, workload.asOf, { invoice: true });
  const accrued = steps.reduce((n, step) => n + (step.kind === 'accrual' ? step.prorations.length : 0), 0);
  const invoices = steps.filter((step) => step.kind === 'invoice').length;
  if (accrued !== prorations || invoices !== 1) throw new Error(`the workload planned ${accrued} prorations and ${invoices} invoices, not ${prorations} and 1`);
  return steps;
}

/**
 * Runs `body` `iterations` times and returns the rate per CPU-second of this process (user +
 * system, so the garbage collector's helper threads count too): on a shared machine wall time
 * also counts the time other processes held the core, CPU time does not.
 */
function timeLoop(iterations: number, body: () => void): number {
  const started = process.cpuUsage();
  let done = 0;
  let micros = 0;
  // At least MIN_ROUND_MICROS of CPU per round: a fast loop timed over a few milliseconds is noise.
  while (done < iterations || micros < MIN_ROUND_MICROS) {
    for (let i = 0; i < iterations; i += 1) body();
    done += iterations;
    const used = process.cpuUsage(started);
    micros = used.user + used.system;
  }
  return (done * 1_000_000) / micros;
}

const MIN_ROUND_MICROS = 300_000;

/**
 * Plans the same quiet monthly renewal `iterations` times per round (single-threaded, so the rate
 * is per core), then as many bare decimal.js multiplications, for `rounds` rounds. A warm-up
 * round runs first so the JIT has compiled both loops before anything is timed.
 */
export function measureCoreSpeed(options: { iterations?: number; rounds?: number } = {}): CoreSpeed {
  const iterations = options.iterations ?? 50_000;
  const rounds = options.rounds ?? 5;
  const quiet = quietRenewal();
  const busy = busyRenewal();
  planOnce(quiet, 0);
  planOnce(busy, 12);
  let planned = 0;
  const renew = (workload: Workload) => () => {
    planned += planBillingRun(workload.ctx, workload.subscription, [], workload.balance, workload.asOf, { invoice: true }).length;
  };
  let sink = new Decimal(0);
  const floor = () => {
    sink = new Decimal(plan.seatPrice).times(MEMBERS).toDecimalPlaces(2);
  };
  const warmUp = Math.ceil(iterations / 5);
  timeLoop(warmUp, renew(quiet));
  timeLoop(warmUp, renew(busy));
  timeLoop(warmUp, floor);
  const renewalsPerSecond: number[] = [];
  const busyRenewalsPerSecond: number[] = [];
  const decimalFloorPerSecond: number[] = [];
  // Interleaved, so a burst of load from other processes touches all three alike.
  for (let round = 0; round < rounds; round += 1) {
    renewalsPerSecond.push(timeLoop(iterations, renew(quiet)));
    decimalFloorPerSecond.push(timeLoop(iterations, floor));
    busyRenewalsPerSecond.push(timeLoop(Math.ceil(iterations / 10), renew(busy)));
  }
  // Keeps the loops' results alive, so neither can be optimised away.
  if (planned === 0 || !sink.isFinite()) throw new Error('the benchmark planned nothing');
  for (const rates of [renewalsPerSecond, busyRenewalsPerSecond, decimalFloorPerSecond]) rates.sort((a, b) => b - a);
  return {
    renewalsPerSecond,
    busyRenewalsPerSecond,
    decimalFloorPerSecond,
    ratio: renewalsPerSecond[0] / decimalFloorPerSecond[0],
    workload: `quiet monthly renewal (${MEMBERS} members in store order, no change, 31 days accrued, 2 kept periods), ${iterations} per round × ${rounds} rounds`,
  };
}

/** One line per figure, for `npm run bench` or this script's own run. */
export function formatCoreSpeed(speed: CoreSpeed): string[] {
  const range = (values: number[]) => `${Math.round(values[values.length - 1]).toLocaleString('en-US')}–${Math.round(values[0]).toLocaleString('en-US')}`;
  return [
    `core: ${speed.workload}`,
    `      ${range(speed.renewalsPerSecond)} renewals per CPU-second (one core; target ≥ 50,000)`,
    `      decimal.js floor (new Decimal(price).times(qty).toDecimalPlaces(2)): ${range(speed.decimalFloorPerSecond)} per CPU-second`,
    `      for reference, a renewal after a month of 12 seat changes: ${range(speed.busyRenewalsPerSecond)} per CPU-second`,
    `      best renewal rate / best floor rate = ${speed.ratio.toFixed(3)} (floor is ${(1 / speed.ratio).toFixed(1)}× faster)`,
  ];
}

if (require.main === module) {
  const iterations = Number(process.env.CORE_BENCH_ITERATIONS ?? 50_000);
  for (const line of formatCoreSpeed(measureCoreSpeed({ iterations }))) console.log(line);
}
