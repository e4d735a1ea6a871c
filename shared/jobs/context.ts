import type { Catalog, Workspace } from '../domain/catalog';
import { NotFoundError } from '../domain/errors';
import type { BillingContext } from '../domain/proration';
import type { BillingStore } from '../store/dynamo-store';

/** Loads the catalog, or fails clearly when the engine was never configured. */
export async function loadCatalog(store: BillingStore): Promise<Catalog> {
  const catalog = await store.getCatalog();
  if (!catalog) throw new NotFoundError('catalog (configure the engine first)');
  return catalog;
}

/** Loads what the pure core reads for one workspace. */
export async function loadContext(store: BillingStore, workspace: Workspace, catalog: Catalog): Promise<BillingContext> {
  return { workspace, catalog, members: await store.listMemberEvents(workspace.id) };
}
