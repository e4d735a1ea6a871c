import type { Scenario } from './scenario';
import type { SimulationResult } from './simulate';

/** A scenario's `expected` block: the amounts a reader can check by hand. */
export type Expected = NonNullable<Scenario['expected']>;

/** Summarises a replay in the shape of a scenario's `expected` block. */
export function summarise(result: SimulationResult): Expected {
  return {
    invoices: result.invoices.map((invoice) => ({
      workspace: invoice.workspace,
      kind: invoice.kind,
      date: invoice.date,
      lines: invoice.lines.map((line) => line.amount),
      subtotal: invoice.subtotal,
      creditApplied: invoice.creditApplied,
      amountDue: invoice.amountDue,
    })),
    rejections: result.rejections.map((rejection) => ({ workspace: rejection.workspace, type: rejection.type, reason: rejection.reason })),
    balances: result.balances,
  };
}
