import fc from 'fast-check';
import { createChangesHandler } from '../../functions/changes/handler';
import type { Plan } from '../../shared/domain/catalog';
import { requestChange, type ChangeCommand } from '../../shared/jobs/changes';
import { withMiddlewares } from '../../shared/runtime/middleware';
import { lambdaContext, makeCatalog, seed, setupDynamo, subscribe, UPRO_MONTHLY } from './harness';

const UBIZ_MONTHLY: Plan = { ...UPRO_MONTHLY, id: 'ubiz-monthly', name: 'uBiz', seatPrice: '100.00' };
const UPRO_YEARLY: Plan = { ...UPRO_MONTHLY, id: 'upro-yearly', name: 'uPro Annual', interval: 'year', seatPrice: '700.00' };
const catalog = makeCatalog([UPRO_MONTHLY, UBIZ_MONTHLY, UPRO_YEARLY]);
const dynamo = setupDynamo();

describe('changes function against DynamoDB Local', () => {
  test('an upgrade on 10 Jan previewed writes nothing, and applying it at the same asOf issues exactly the previewed invoice', async () => {
    const world = await dynamo.world();
    await seed(world.store, undefined, catalog);
    await subscribe(world.deps, 'acme', '2027-01-01T08:00:00Z', '2027-01-01T09:00:00Z');
    const command: ChangeCommand = { workspace: 'acme', change: { type: 'plan.change_requested', plan: 'ubiz-monthly' }, requestedBy: 'u1', asOf: '2027-01-10T09:00:00Z', preview: true };
    const before = await world.scan();
    const preview = await requestChange(world.deps, command);
    expect(await world.scan()).toEqual(before);
    expect(preview.status).toBe('preview');
    if (preview.status === 'rejected') throw new Error('unexpected rejection');
    // 3 × round(70 × 22/31) = 3 × 49.68 credited; 3 × round(100 × 22/31) = 3 × 70.97 charged.
    expect(preview.invoice?.lines.map((line) => line.amount)).toEqual(['-149.04', '212.91']);
    expect(preview.invoice?.amountDue).toBe('63.87');

    const applied = await requestChange(world.deps, { ...command, preview: false });
    expect(applied.status).toBe('applied');
    if (applied.status === 'rejected') throw new Error('unexpected rejection');
    expect(applied.invoice).toEqual(preview.invoice);
    const stored = (await world.store.listInvoices('acme')).find((invoice) => invoice.kind === 'change');
    expect(stored).toEqual(preview.invoice);
    // Applying the same request again is idempotent: the invoice id is deterministic.
    await requestChange(world.deps, { ...command, preview: false });
    expect((await world.store.listInvoices('acme')).filter((invoice) => invoice.kind === 'change')).toHaveLength(1);
  });

  test('a change by a plain member is rejected as forbidden: only the rejection record and Change Rejected are written', async () => {
    const world = await dynamo.world();
    await seed(world.store, undefined, catalog);
    await subscribe(world.deps, 'acme', '2027-01-01T08:00:00Z', '2027-01-01T09:00:00Z');
    const command: ChangeCommand = { workspace: 'acme', change: { type: 'plan.change_requested', plan: 'ubiz-monthly' }, requestedBy: 'u2', asOf: '2027-01-10T09:00:00Z', preview: true };
    const before = await world.scan();
    expect(await requestChange(world.deps, command)).toMatchObject({ status: 'rejected', reason: 'forbidden' });
    expect(await world.scan()).toEqual(before);
    expect(await requestChange(world.deps, { ...command, preview: false })).toMatchObject({ status: 'rejected', reason: 'forbidden' });
    const added = (await world.scan()).filter((item) => !before.some((old) => old.pk === item.pk && old.sk === item.sk));
    expect(added.map((item) => String(item.sk).split('#')[0])).toEqual(expect.arrayContaining(['REJECTION']));
    // The rejection record, its event, and the request's idempotency record (a retry replays the rejection).
    expect(added.every((item) => String(item.sk).startsWith('REJECTION#') || String(item.pk).startsWith('OUTBOX#') || String(item.pk).startsWith('IDEMPOTENCY#'))).toBe(true);
    expect((await world.store.listOutbox()).map((entry) => entry.detailType)).toContain('Change Rejected');
  });

  test('preview equals apply for random changes on random days of the month (R19)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 28 }), fc.constantFrom('ubiz-monthly', 'upro-yearly'), async (day, plan) => {
        const world = await dynamo.world();
        await seed(world.store, undefined, catalog);
        await subscribe(world.deps, 'acme', '2027-03-01T08:00:00Z', '2027-03-01T09:00:00Z', 2);
        const asOf = `2027-03-${String(day).padStart(2, '0')}T09:00:00Z`;
        const command: ChangeCommand = { workspace: 'acme', change: { type: 'plan.change_requested', plan }, requestedBy: 'u1', asOf, preview: true };
        const preview = await requestChange(world.deps, command);
        const applied = await requestChange(world.deps, { ...command, preview: false });
        expect(applied.status).toBe('applied');
        if (preview.status === 'rejected' || applied.status === 'rejected') throw new Error('unexpected rejection');
        expect(applied.invoice).toEqual(preview.invoice);
        expect(applied.balance).toEqual(preview.balance);
      }),
      { numRuns: 5 },
    );
  });

  test('the changes handler names the invalid field', async () => {
    const world = await dynamo.world();
    const handler = withMiddlewares(createChangesHandler(() => world.deps));
    await expect(handler({ workspace: 'acme', change: { type: 'plan.change_requested' }, requestedBy: 'u1', asOf: '2027-01-10T09:00:00Z' }, lambdaContext())).rejects.toThrow(/input\.change\.plan/);
  });
});
