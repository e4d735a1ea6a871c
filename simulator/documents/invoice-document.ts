import type { Invoice } from '../../shared/domain/invoice';

/**
 * An invoice as the documents read it: the result document's invoice. The engine numbers every
 * invoice it issues (issue 11 item 4); `number` is optional here only so that an invoice stored
 * before numbering (or built by hand) still renders, with an empty number.
 */
export type DocumentInvoice = Omit<Invoice, 'number'> & { number?: string };
