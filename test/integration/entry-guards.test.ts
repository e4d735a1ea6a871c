/**
 * The entry points' guards beyond shape (issue 9 item 6), against DynamoDB Local: instants
 * with any offset are normalised before they are compared, on-demand jobs and applied changes
 * are held to the handler's clock, and on-demand change rejections never overwrite each other.
 */
import { createChangesHandler } from '../../functions/changes/handler';
import { createInvoicingHandler } from '../../functions/invoicing/handler';
import { normaliseInstant, parseAppEvent, parseJobInvocation } from '../../shared/contracts/events';
import type { Plan } from '../../shared/domain/catalog';
import { ValidationError } from '../../shared/domain/errors';
import { requestChange, type ChangeCommand } from '../../shared/jobs/changes';
import { withMiddlewares } from '../../shared/runtime/middleware';
import { issued, lambdaContext, makeCatalog, seed, setupDynamo, subscribe, summary, UPRO_MONTHLY } from './harness';

const dynamo = setupDynamo();
const UBIZ_MONTHLY: Plan = { ...UPRO_MONTHLY, id: 'ubiz-monthly', name: 'uBiz', seatPrice: '100.00' };
const catalog = makeCatalog([UPRO_MONTHLY, UBIZ_MONTHLY]);

describe('instants are normalised to UTC at every entry point', () => {
  test('any offset becomes the same UTC instant, without milliseconds when there are none', () => {
    expect(normaliseInstant('2026-12-31T19:05:00-05:00')).toBe('2027-01-01T00:05:00Z');
    expect(normaliseInstant('2027-01-01T13:05:00+13:00')).toBe('2027-01-01T00:05:00Z');
    expect(normaliseInstant('2027-01-01T00:05:00.250Z')).toBe('2027-01-01T00:05:00.250Z');
    expect(parseJobInvocation({ scheduledTime: '2027-01-01T05:35:00+05:30' })).toEqual({ scheduledTime: '2027-01-01T00:05:00Z' });
    expect(parseAppEvent('e1', 'member.joined', '2027-01-01T01:00:00+01:00', { workspace: 'acme', member: 'u1' }).at).toBe('2027-01-01T00:00:00Z');
  });

  test('a scheduled time with a negative offset still finds the workspaces due (string comparison of UTC keys)', async () => {
    const w = await dynamo.world();
    await seed(w.store);
    await subscribe(w.deps, 'acme', '2026-12-23T09:00:00Z', '2026-12-23T10:00:00Z');
    await w.publishAll();
    w.published.length = 0;
    const clock = () => Date.parse('2027-01-01T00:06:00Z');
    const invoicing = withMiddlewares(createInvoicingHandler(() => w.deps, clock));
    // 19:05 on 31 Dec in New York is 00:05 UTC on 1 Jan: the renewal is due.
    const report = await invoicing({ scheduledTime: '2026-12-31T19:05:00-05:00' }, lambdaContext('invoicing'));
    expect(summary(report.workspaces.flatMap((entry) => entry.invoices))).toEqual([{ kind: 'renewal', date: '2027-01-01', amountDue: '210.00' }]);
    await w.publishAll();
    expect(summary(issued(w.published))).toEqual([{ kind: 'renewal', date: '2027-01-01', amountDue: '210.00' }]);
  });
});

describe('on-demand runs and changes are held to the clock', () => {
  test('a real on-demand run more than a day ahead is refused and writes nothing; a dry run or a run within a day is not', async () => {
    const w = await dynamo.world();
    await seed(w.store);
    await subscribe(w.deps, 'acme', '2026-12-23T09:00:00Z', '2026-12-23T10:00:00Z');
    const clock = () => Date.parse('2026-12-30T08:00:00Z');
    const invoicing = withMiddlewares(createInvoicingHandler(() => w.deps, clock));
    const before = await w.scan();

    const refused = await invoicing({ asOf: '2027-01-01', workspace: 'acme' }, lambdaContext('invoicing')).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).field).toBe('input.asOf');
    expect(await w.scan()).toEqual(before);

    const dry = await invoicing({ asOf: '2027-01-01', workspace: 'acme', dryRun: true }, lambdaContext('invoicing'));
    expect(summary(dry.workspaces.flatMap((entry) => entry.invoices))).toEqual([{ kind: 'renewal', date: '2027-01-01', amountDue: '210.00' }]);
    expect(await w.scan()).toEqual(before);

    // 31 Dec begins in Kiritimati (UTC+14) at 10:00 UTC on the 30th, within the day (1 Jan, refused
    // above, begins at 10:00 UTC on the 31st: more than a day after 08:00 on the 30th).
    const withinADay = await invoicing({ asOf: '2026-12-31', workspace: 'acme' }, lambdaContext('invoicing'));
    expect(withinADay.dryRun).toBe(false);
  });

  test('applying a change is refused outside [now − 1 day, now + 5 min]; a preview at any instant is answered', async () => {
    const w = await dynamo.world();
    await seed(w.store, undefined, catalog);
    await subscribe(w.deps, 'acme', '2027-01-01T08:00:00Z', '2027-01-01T09:00:00Z');
    const changes = withMiddlewares(
      createChangesHandler(
        () => w.deps,
        () => Date.parse('2027-01-10T09:00:00Z'),
      ),
    );
    const request = { workspace: 'acme', change: { type: 'plan.change_requested', plan: 'ubiz-monthly' }, requestedBy: 'u1' };
    const before = await w.scan();

    for (const asOf of ['2027-01-09T08:59:59Z', '2027-01-10T09:05:01Z', '2027-02-10T09:00:00Z']) {
      const refused = await changes({ ...request, asOf, preview: false }, lambdaContext('changes')).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ValidationError);
      expect((refused as ValidationError).field).toBe('input.asOf');
    }
    expect(await w.scan()).toEqual(before);

    const preview = await changes({ ...request, asOf: '2027-01-20T09:00:00Z' }, lambdaContext('changes'));
    expect(preview.status).toBe('preview');
    expect(await w.scan()).toEqual(before);

    // 11:04 in Paris is 10:04 UTC: four minutes ahead of the clock, accepted.
    const applied = await changes({ ...request, asOf: '2027-01-10T10:04:00+01:00', preview: false }, lambdaContext('changes'));
    expect(applied.status).toBe('applied');
  });
});

describe('on-demand change rejections', () => {
  test('two different rejected requests at the same instant keep two records and two events; the same request again keeps one', async () => {
    const w = await dynamo.world();
    await seed(w.store, undefined, catalog);
    await subscribe(w.deps, 'acme', '2027-01-01T08:00:00Z', '2027-01-01T09:00:00Z');
    const byU2: ChangeCommand = { workspace: 'acme', change: { type: 'plan.change_requested', plan: 'ubiz-monthly' }, requestedBy: 'u2', asOf: '2027-01-10T09:00:00Z', preview: false };
    const byU3: ChangeCommand = { ...byU2, requestedBy: 'u3' };
    const seats: ChangeCommand = { ...byU2, change: { type: 'seats.purchased', seats: 2 } };

    for (const command of [byU2, byU3, seats, byU2]) expect((await requestChange(w.deps, command)).status).toBe('rejected');

    const rejections = await w.store.listRejections('acme');
    expect(rejections).toHaveLength(3);
    expect(new Set(rejections.map((rejection) => rejection.eventId)).size).toBe(3);
    const announced = (await w.store.listOutbox()).filter((entry) => entry.detailType === 'Change Rejected');
    expect(announced).toHaveLength(3);
  });
});
