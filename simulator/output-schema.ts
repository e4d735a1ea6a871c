import { z } from 'zod';
import { balanceSchema, changeRejectedDetailSchema, invoiceSchema, seatLimitExceededDetailSchema } from '../shared/contracts/outputs';

/**
 * The simulator's `--json` document (scenario-format.md, Output): the invoices in the order
 * they were issued, the rejections, the balances per workspace, and the engine's other
 * events (`Invoice Issued` is the invoices themselves). Validated against the bundled
 * scenarios' output in `test/integration/output-schema.test.ts`.
 */
export const simulationOutputSchema = z.object({
  invoices: z.array(invoiceSchema),
  rejections: z.array(z.object({ at: z.iso.datetime({ offset: true }), workspace: z.string(), type: z.string(), reason: z.string(), message: z.string() })),
  balances: z.record(z.string(), balanceSchema),
  events: z.array(
    z.discriminatedUnion('detailType', [
      z.object({ id: z.string(), detailType: z.literal('Change Rejected'), detail: changeRejectedDetailSchema }),
      z.object({ id: z.string(), detailType: z.literal('Seat Limit Exceeded'), detail: seatLimitExceededDetailSchema }),
    ]),
  ),
});

/** The simulator's `--json` document. */
export type SimulationOutput = z.output<typeof simulationOutputSchema>;
