import type { Invoice } from '../../shared/domain/invoice';

/**
 * An invoice as the documents read it: the result document's invoice, with the human invoice
 * `number` when the engine assigned one (issue 11 item 4; shown when present).
 */
export type DocumentInvoice = Invoice & { number?: string };
