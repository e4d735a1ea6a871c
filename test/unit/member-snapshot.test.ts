/**
 * The member snapshot (issue 10 item 3): a roster folded through a cutoff, replayed with the
 * events after it, gives the core the same counts and roles as the whole history for every day
 * after the cutoff; and it refuses to stand in when a late or ambiguous event makes it unsafe.
 */
import fc from 'fast-check';
import { addDays, eachDate } from '../../shared/domain/calendar';
import { activeRoleAt, endOfDayCounts, foldMembers, foldMemberTail, MEMBER_EVENT_TYPES, type MemberEvent } from '../../shared/domain/members';

const ROLES = ['owner', 'member', 'guest', 'viewer'];
const BILLABLE = ['owner', 'admin', 'billing-admin', 'member'];
const FIRST = '2027-01-01';

/** Random events over 60 days for 6 members, some without a role, arriving in date order (seq). */
const histories = fc
  .array(
    fc.record({
      day: fc.integer({ min: 0, max: 59 }),
      hour: fc.integer({ min: 0, max: 23 }),
      type: fc.constantFrom(...MEMBER_EVENT_TYPES),
      member: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
      role: fc.option(fc.constantFrom(...ROLES), { nil: undefined }),
    }),
    { maxLength: 80 },
  )
  .map((raw) =>
    raw
      .sort((x, y) => x.day - y.day || x.hour - y.hour)
      .map((event, seq): MemberEvent => {
        const date = addDays(FIRST, event.day);
        return { type: event.type, member: event.member, role: event.role, at: `${date}T${String(event.hour).padStart(2, '0')}:00:00Z`, date, seq: seq + 1 };
      }),
  );

describe('member snapshot', () => {
  test('snapshot plus tail counts like the whole history on every day after the cutoff, whenever it accepts to stand in', () => {
    let accepted = 0;
    fc.assert(
      fc.property(histories, fc.integer({ min: 0, max: 58 }), (events, cut) => {
        const cutoff = addDays(FIRST, cut);
        const snapshot = foldMembers(undefined, events, cutoff);
        const members = foldMemberTail(
          snapshot,
          events.filter((event) => event.date > cutoff),
        );
        if (!members) return;
        accepted += 1;
        const dates = eachDate(addDays(cutoff, 1), addDays(FIRST, 60));
        expect([...endOfDayCounts(members, dates, BILLABLE)]).toEqual([...endOfDayCounts(events, dates, BILLABLE)]);
        for (const member of ['a', 'b', 'c']) expect(activeRoleAt(members, member, `${addDays(FIRST, 60)}T00:00:00Z`)).toBe(activeRoleAt(events, member, `${addDays(FIRST, 60)}T00:00:00Z`));
      }),
      { numRuns: 400 },
    );
    // Most histories are accepted (about 70% of these, far denser in role changes and role-less joins than real ones).
    expect(accepted).toBeGreaterThan(100);
  });

  test('folding in two steps is folding in one, whenever the first snapshot may stand in for what it folded', () => {
    fc.assert(
      fc.property(histories, fc.integer({ min: 0, max: 29 }), fc.integer({ min: 30, max: 58 }), (events, first, second) => {
        const base = foldMembers(undefined, events, addDays(FIRST, first));
        // The jobs fold onto a snapshot only after it accepted the tail (`planMemberFold`).
        if (
          !foldMemberTail(
            base,
            events.filter((event) => event.date > base.cutoff),
          )
        )
          return;
        const once = foldMembers(undefined, events, addDays(FIRST, second));
        const twice = foldMembers(base, events, addDays(FIRST, second));
        expect(twice.members).toEqual(once.members);
        expect(twice.cutoff).toBe(once.cutoff);
      }),
      { numRuns: 400 },
    );
  });

  test('removed members leave the roster, so it holds who can still be billed, not everyone who ever was', () => {
    const events: MemberEvent[] = [];
    for (let day = 0; day < 40; day += 1) {
      const date = addDays(FIRST, day);
      events.push({ type: day % 2 === 0 ? 'member.joined' : 'member.removed', member: `churn${Math.floor(day / 2)}`, role: 'member', at: `${date}T10:00:00Z`, date, seq: day + 1 });
    }
    events.push({ type: 'member.joined', member: 'owner', role: 'owner', at: `${FIRST}T08:00:00Z`, date: FIRST, seq: 100 });
    expect(foldMembers(undefined, events, addDays(FIRST, 39)).members).toEqual({ owner: 'a:owner' });
  });

  test('a late event (dated on or before the cutoff, arrived after the fold) makes the caller read the whole history', () => {
    const join: MemberEvent = { type: 'member.joined', member: 'a', role: 'member', at: `${FIRST}T10:00:00Z`, date: FIRST, seq: 1 };
    const snapshot = foldMembers(undefined, [join], addDays(FIRST, 10));
    const late: MemberEvent = { type: 'member.removed', member: 'a', at: `${addDays(FIRST, 5)}T10:00:00Z`, date: addDays(FIRST, 5), seq: 2 };
    expect(foldMemberTail(snapshot, [late])).toBeUndefined();
    // An event folded already (seq at or below the snapshot's) is only skipped.
    expect(foldMemberTail(snapshot, [join])).toHaveLength(1);
  });

  test('a role change or a role-less join for a member the roster does not hold is ambiguous (removed before, or never seen?)', () => {
    const removed: MemberEvent[] = [
      { type: 'member.joined', member: 'a', role: 'admin', at: `${FIRST}T10:00:00Z`, date: FIRST, seq: 1 },
      { type: 'member.removed', member: 'a', at: `${FIRST}T11:00:00Z`, date: FIRST, seq: 2 },
    ];
    const snapshot = foldMembers(undefined, removed, FIRST);
    const later = `${addDays(FIRST, 3)}T10:00:00Z`;
    expect(foldMemberTail(snapshot, [{ type: 'member.role_changed', member: 'a', role: 'member', at: later, date: addDays(FIRST, 3), seq: 3 }])).toBeUndefined();
    expect(foldMemberTail(snapshot, [{ type: 'member.joined', member: 'a', at: later, date: addDays(FIRST, 3), seq: 3 }])).toBeUndefined();
    // An invite first settles the member's state whatever came before: no ambiguity.
    const invitedThenJoined: MemberEvent[] = [
      { type: 'member.invited', member: 'a', role: 'member', at: later, date: addDays(FIRST, 3), seq: 3 },
      { type: 'member.joined', member: 'a', at: `${addDays(FIRST, 4)}T10:00:00Z`, date: addDays(FIRST, 4), seq: 4 },
    ];
    expect(foldMemberTail(snapshot, invitedThenJoined)).toBeDefined();
  });
});
