import { parseAppEvent, parseChangeInvocation, parseJobInvocation } from '../../shared/contracts/events';
import { ValidationError } from '../../shared/domain/errors';

describe('app event contracts', () => {
  test('an accepted invite without a role keeps the invited role (no default overrides it)', () => {
    const event = parseAppEvent('e1', 'member.joined', '2027-01-12T08:00:00Z', { workspace: 'acme', member: 'u2' });
    expect(event.detail.role).toBeUndefined();
    expect(event.at).toBe('2027-01-12T08:00:00Z');
  });

  test('the detail may carry its own instant, which wins over the envelope time', () => {
    expect(parseAppEvent('e1', 'member.removed', '2027-01-12T08:00:00Z', { workspace: 'acme', member: 'u2', at: '2027-01-03T10:00:00Z' }).at).toBe('2027-01-03T10:00:00Z');
  });

  test('a wrong field is named in the error', () => {
    expect(() => parseAppEvent('e1', 'seats.purchased', '2027-01-12T08:00:00Z', { workspace: 'acme', seats: -2, requestedBy: 'u1' })).toThrow(/detail\.seats/);
    expect(() => parseAppEvent('e1', 'no.such', '2027-01-12T08:00:00Z', { workspace: 'acme' })).toThrow(ValidationError);
  });
});

describe('job and change invocations', () => {
  test('a schedule input and an on-demand input both parse; dryRun defaults to false', () => {
    expect(parseJobInvocation({ scheduledTime: '2027-01-01T00:05:00Z' })).toEqual({ scheduledTime: '2027-01-01T00:05:00Z' });
    expect(parseJobInvocation({ asOf: '2027-01-01', workspace: 'acme' })).toEqual({ asOf: '2027-01-01', workspace: 'acme', dryRun: false });
  });

  test('a bad asOf is named', () => {
    expect(() => parseJobInvocation({ asOf: 'yesterday' })).toThrow(/input\.asOf/);
  });

  test('a change preview is the default, and a missing plan is named', () => {
    expect(parseChangeInvocation({ workspace: 'acme', change: { type: 'plan.change_requested', plan: 'ubiz' }, requestedBy: 'u1', asOf: '2027-01-10T09:00:00Z' }).preview).toBe(true);
    expect(() => parseChangeInvocation({ workspace: 'acme', change: { type: 'plan.change_requested' }, requestedBy: 'u1', asOf: '2027-01-10T09:00:00Z' })).toThrow(/input\.change\.plan/);
  });
});
