import type { IsoDate } from './calendar';

/** The member event types of the scenario format (R7). */
export const MEMBER_EVENT_TYPES = ['member.invited', 'member.joined', 'member.role_changed', 'member.deactivated', 'member.reactivated', 'member.removed'] as const;

/** One of the member event types. */
export type MemberEventType = (typeof MEMBER_EVENT_TYPES)[number];

/**
 * A membership change, effective-dated: `at` is when it happened, `date` its billing date,
 * `seq` the order it was received in (breaks ties between events at the same instant).
 */
export interface MemberEvent {
  type: MemberEventType;
  member: string;
  role?: string;
  at: string;
  date: IsoDate;
  seq: number;
}

type Status = 'invited' | 'active' | 'deactivated' | 'removed';

interface MemberState {
  status: Status;
  role: string;
}

const INSTANTS = new Map<string, number>();
const MAX_CACHED_INSTANTS = 10_000;

/**
 * `Date.parse(at)`, remembered: parsing was most of a quiet renewal's planning, and every
 * renewal, accrual and ingest parses the same workspace's instants again. A string always
 * parses to the same number, so the cache changes no result; it is emptied when full.
 */
export function instantOf(at: string): number {
  let time = INSTANTS.get(at);
  if (time === undefined) {
    time = Date.parse(at);
    if (INSTANTS.size >= MAX_CACHED_INSTANTS) INSTANTS.clear();
    INSTANTS.set(at, time);
  }
  return time;
}

/** A history sorted before, with what its order depended on when it was sorted. */
interface SortedHistory {
  source: readonly MemberEvent[];
  ats: readonly string[];
  seqs: readonly number[];
  sorted: readonly MemberEvent[];
}

const SORTED = new WeakMap<readonly MemberEvent[], SortedHistory>();

/** True when `events` still holds the same events, with the same instants and arrival numbers, as when sorted. */
function isUnchanged(history: SortedHistory, events: readonly MemberEvent[]): boolean {
  if (history.source.length !== events.length) return false;
  for (let i = 0; i < events.length; i += 1) {
    const event = events[i];
    if (event !== history.source[i] || event.at !== history.ats[i] || event.seq !== history.seqs[i]) return false;
  }
  return true;
}

/**
 * Orders events by when they happened, then by arrival, so late delivery changes nothing.
 * A renewal orders the same history twice or more (accrual, then the renewal's quantity), and
 * the store returns it in id order, not time order: the order is remembered per history array
 * and reused while that array still holds the same events with the same `at` and `seq` (all the
 * order depends on), so a history changed in place is sorted again. Always a new array.
 */
export function sortMemberEvents(events: readonly MemberEvent[]): MemberEvent[] {
  const remembered = SORTED.get(events);
  if (remembered && isUnchanged(remembered, events)) return [...remembered.sorted];
  const sorted = sortByInstant(events);
  SORTED.set(events, { source: [...events], ats: events.map((event) => event.at), seqs: events.map((event) => event.seq), sorted });
  return [...sorted];
}

function sortByInstant(events: readonly MemberEvent[]): MemberEvent[] {
  const times = events.map((event) => instantOf(event.at));
  // Every neighbour in order means a stable sort would keep the order as it is (the comparison
  // is antisymmetric, NaN included), so skip it.
  let ordered = true;
  for (let i = 1; i < events.length && ordered; i += 1) ordered = (times[i - 1] - times[i] || events[i - 1].seq - events[i].seq) <= 0;
  if (ordered) return [...events];
  return events
    .map((event, i) => ({ event, time: times[i] }))
    .sort((a, b) => a.time - b.time || a.event.seq - b.event.seq)
    .map(({ event }) => event);
}

function applyEvent(members: Map<string, MemberState>, event: MemberEvent): void {
  const current = members.get(event.member);
  switch (event.type) {
    case 'member.invited':
      if (!current || current.status === 'removed') members.set(event.member, { status: 'invited', role: event.role ?? 'member' });
      else if (current.status === 'invited') current.role = event.role ?? current.role;
      return;
    case 'member.joined':
      members.set(event.member, { status: 'active', role: event.role ?? current?.role ?? 'member' });
      return;
    case 'member.role_changed':
      if (current) current.role = event.role ?? current.role;
      else members.set(event.member, { status: 'active', role: event.role ?? 'member' });
      return;
    case 'member.deactivated':
      if (current && current.status === 'active') current.status = 'deactivated';
      return;
    case 'member.reactivated':
      if (current && current.status === 'deactivated') current.status = 'active';
      return;
    case 'member.removed':
      if (current) current.status = 'removed';
      return;
  }
}

function countBillable(members: Map<string, MemberState>, billableRoles: readonly string[]): number {
  let count = 0;
  for (const state of members.values()) if (state.status === 'active' && billableRoles.includes(state.role)) count += 1;
  return count;
}

/** Billable members (R7) after every event at or before `instant`. */
export function billableCountAt(events: readonly MemberEvent[], instant: string, billableRoles: readonly string[]): number {
  const members = new Map<string, MemberState>();
  const cutoff = instantOf(instant);
  for (const event of sortMemberEvents(events)) if (instantOf(event.at) <= cutoff) applyEvent(members, event);
  return countBillable(members, billableRoles);
}

/** The role a member holds at `instant`, if they are an active member then. */
export function activeRoleAt(events: readonly MemberEvent[], member: string, instant: string): string | undefined {
  const members = new Map<string, MemberState>();
  const cutoff = Date.parse(instant);
  for (const event of sortMemberEvents(events)) {
    if (event.member === member && Date.parse(event.at) <= cutoff) applyEvent(members, event);
  }
  const state = members.get(member);
  return state?.status === 'active' ? state.role : undefined;
}

/**
 * End-of-day billable counts (R4) for every date in `dates` (ascending): the count after all
 * events whose billing date is on or before that date. One pass over the history.
 */
export function endOfDayCounts(events: readonly MemberEvent[], dates: readonly IsoDate[], billableRoles: readonly string[]): Map<IsoDate, number> {
  const sorted = sortMemberEvents(events);
  const members = new Map<string, MemberState>();
  const counts = new Map<IsoDate, number>();
  let next = 0;
  for (const date of dates) {
    while (next < sorted.length && sorted[next].date <= date) applyEvent(members, sorted[next++]);
    counts.set(date, countBillable(members, billableRoles));
  }
  return counts;
}

/** A member as a snapshot keeps them: `i`nvited, `a`ctive or `d`eactivated, and their role (`a:member`). */
export type RosterEntry = `${'i' | 'a' | 'd'}:${string}`;

/**
 * Member history folded up to a date: every member's state after all events whose billing date
 * is on or before `cutoff`, so a renewal reads this one small item and the events after it
 * instead of the whole history. Removed members are left out (the roster holds who can still be
 * billed, not who ever was); `foldMemberTail` says when that makes a later event ambiguous.
 * `seq` is the highest arrival number folded in: an event dated on or before the cutoff with a
 * higher one arrived late, after the fold.
 */
export interface MemberSnapshot {
  cutoff: IsoDate;
  seq: number;
  members: Record<string, RosterEntry>;
}

const STATUS_CODES = { invited: 'i', active: 'a', deactivated: 'd' } as const;

/**
 * Folds `events` dated on or before `cutoff` onto `base` (or onto nobody): the snapshot at
 * `cutoff`. Onto a base, only once `foldMemberTail` accepted the events after it: an event it
 * refuses (late, or ambiguous for a dropped member) needs the whole history instead.
 */
export function foldMembers(base: MemberSnapshot | undefined, events: readonly MemberEvent[], cutoff: IsoDate): MemberSnapshot {
  const members = new Map<string, MemberState>();
  let seq = base?.seq ?? 0;
  for (const event of snapshotEvents(base)) applyEvent(members, event);
  for (const event of sortMemberEvents(events)) {
    if (event.date > cutoff || (base && event.date <= base.cutoff)) continue;
    applyEvent(members, event);
    seq = Math.max(seq, event.seq);
  }
  const roster: Record<string, RosterEntry> = {};
  for (const member of [...members.keys()].sort()) {
    const state = members.get(member) as MemberState;
    if (state.status !== 'removed') roster[member] = `${STATUS_CODES[state.status]}:${state.role}`;
  }
  return { cutoff, seq, members: roster };
}

/**
 * The snapshot as events the core replays like any others (dated on its cutoff, before every
 * later event), so the pure core bills from a snapshot and its tail exactly as from the whole
 * history, for every date after the cutoff.
 */
export function snapshotEvents(snapshot: MemberSnapshot | undefined): MemberEvent[] {
  if (!snapshot) return [];
  const at = `${snapshot.cutoff}T00:00:00.000Z`;
  const events: MemberEvent[] = [];
  let seq = -2 * Object.keys(snapshot.members).length - 1;
  for (const [member, entry] of Object.entries(snapshot.members)) {
    const [code, ...role] = entry.split(':');
    const event = (type: MemberEventType): MemberEvent => ({ type, member, role: role.join(':'), at, date: snapshot.cutoff, seq: seq++ });
    events.push(event(code === 'i' ? 'member.invited' : 'member.joined'));
    if (code === 'd') events.push(event('member.deactivated'));
  }
  return events;
}

/**
 * The events the core needs from a snapshot and the events read after it, or `undefined` when
 * the snapshot cannot stand in for the history and the caller must read it whole: an event dated
 * on or before the cutoff that arrived after the fold (late), or an event whose outcome depends
 * on whether its member was removed before the cutoff (a role change, or a join without a role,
 * for a member the roster does not hold). Events already folded (dated on or before the cutoff,
 * arrived before the fold) are dropped.
 */
export function foldMemberTail(snapshot: MemberSnapshot, tail: readonly MemberEvent[]): MemberEvent[] | undefined {
  const after: MemberEvent[] = [];
  // Members whose state the tail itself sets (an invite or a join), whatever came before.
  const settled = new Set<string>();
  for (const event of sortMemberEvents(tail)) {
    if (event.date <= snapshot.cutoff) {
      if (event.seq > snapshot.seq) return undefined;
      continue;
    }
    const ambiguous = event.type === 'member.role_changed' || (event.type === 'member.joined' && event.role === undefined);
    if (ambiguous && !(event.member in snapshot.members) && !settled.has(event.member)) return undefined;
    if (event.type === 'member.invited' || event.type === 'member.joined') settled.add(event.member);
    after.push(event);
  }
  return [...snapshotEvents(snapshot), ...after];
}
