import type { Scenario } from '../scenario';
import type { SimulationResult } from '../simulate';
import { DEFAULT_LOCALE } from './format';
import { renderWorkspaceDocument } from './html';
import type { DocumentInvoice } from './invoice-document';
import { buildTimeline } from './timeline';

export { renderInvoicesCsv } from './csv';
export { renderWorkspaceDocument } from './html';
export { buildTimeline } from './timeline';

/** One rendered page. */
export interface WorkspacePage {
  workspace: string;
  /** A file name safe on every OS (`acme.html`). */
  fileName: string;
  html: string;
}

/** The plan whose billable roles count for a workspace's timeline: the one it started on. */
function billableRolesFor(scenario: Scenario, workspace: string): readonly string[] | undefined {
  const start = scenario.events.find((event) => event.workspace === workspace && event.type === 'subscription.started');
  return scenario.plans.find((plan) => plan.id === start?.plan)?.billableRoles;
}

/**
 * The documents of a replay (pure): one page per workspace of the scenario, from the scenario
 * (members, zones, locales) and its result (invoices, balances). The locale of a page is the
 * workspace's `locale` in the scenario, else `en-US`.
 */
export function renderScenarioDocuments(scenario: Scenario, result: { invoices: readonly DocumentInvoice[]; balances: SimulationResult['balances'] }): WorkspacePage[] {
  const invoices = result.invoices;
  return scenario.workspaces.map((workspace) => {
    const timeline = buildTimeline({
      workspace: workspace.id,
      timezone: workspace.timezone,
      currency: scenario.currency,
      events: scenario.events,
      invoices,
      until: scenario.until,
      billableRoles: billableRolesFor(scenario, workspace.id),
    });
    const html = renderWorkspaceDocument({
      title: scenario.name,
      workspace,
      locale: workspace.locale ?? DEFAULT_LOCALE,
      currency: scenario.currency,
      invoices,
      timeline,
      balance: result.balances[workspace.id],
    });
    return { workspace: workspace.id, fileName: `${workspace.id.replace(/[^A-Za-z0-9._-]/g, '_')}.html`, html };
  });
}
