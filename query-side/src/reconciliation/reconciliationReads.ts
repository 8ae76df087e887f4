import { createHash } from 'node:crypto';
import { InvalidArgumentError, NotFoundError, ValidationError, type DocumentStore, type Where } from '@folio/shared';
import { discrepancyCodes, discrepancyStatuses, type DiscrepancyDocument, type ServedVersion, type SummaryDocument } from '@folio/projections';
import { z } from 'zod';
import { cursorSchema, limitSchema, positionSchema } from '../readParameters.js';

/** The reconciliation read model's collections, of the version read. */
type ReconciliationCollections = ServedVersion['collections'];

const MAX_PAGE = 100;
const DEFAULT_PAGE = 25;

export const discrepancyParams = z.strictObject({ id: z.string().regex(/^[0-9a-f]{32}$/, 'expected a discrepancy id: 32 lower-case hex characters') });

export const discrepanciesQuery = z.strictObject({
  code: z.enum(discrepancyCodes).optional(),
  provider: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'expected a provider name: a-z, 0-9 and "_"').optional(),
  status: z.enum(discrepancyStatuses).optional(),
  cursor: cursorSchema.optional(),
  limit: limitSchema(MAX_PAGE).optional(),
  position: positionSchema.optional(),
});

export const summaryQuery = z.strictObject({ position: positionSchema.optional() });

type Stored<D> = D & { [key: string]: never };

const badCursor = (message: string): ValidationError =>
  new ValidationError(`invalid request query: query.cursor: ${message}`, [{ path: 'query.cursor', message }]);

/** Our cursor carries a digest of its filters, so it pages only the list it came from. */
const filtersDigest = (where: Where): string => createHash('sha256').update(JSON.stringify(where)).digest('base64url').slice(0, 16);

const decodeCursor = (cursor: string, where: Where): string => {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor('not a cursor this API issued: pass the nextCursor of the previous page as it was');
  }
  const { f, a } = (typeof body === 'object' && body !== null ? body : {}) as { f?: unknown; a?: unknown };
  if (typeof f !== 'string' || typeof a !== 'string') throw badCursor('not a cursor this API issued: pass the nextCursor of the previous page as it was');
  if (f !== filtersDigest(where)) throw badCursor('this cursor belongs to other filters: repeat that query to page on');
  return a;
};

const view = (discrepancy: DiscrepancyDocument) => {
  const { sortablePosition: _, ...visible } = discrepancy;
  return { id: visible._id, ...Object.fromEntries(Object.entries(visible).filter(([key]) => key !== '_id')) };
};

/** A page of discrepancies, oldest first, filtered by code, provider and status. */
export const listDiscrepancies = async (
  documents: DocumentStore,
  collections: ReconciliationCollections,
  query: z.output<typeof discrepanciesQuery>,
) => {
  const where: Record<string, string> = {};
  if (query.code !== undefined) where.code = query.code;
  if (query.provider !== undefined) where.provider = query.provider;
  if (query.status !== undefined) where.status = query.status;
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, where);
  let page;
  try {
    page = await documents.find<Stored<DiscrepancyDocument>>(collections.discrepancies!, {
      where,
      orderBy: { field: 'sortablePosition', direction: 'asc' },
      limit: query.limit ?? DEFAULT_PAGE,
      ...(after === undefined ? {} : { after }),
    });
  } catch (error) {
    // The store refusing the inner cursor is the caller's to fix; any other failure (a server that
    // lost its own cursor, say) is not, whatever its message says.
    if (after !== undefined && error instanceof InvalidArgumentError) throw badCursor('not a cursor this API issued');
    throw error;
  }
  return {
    items: page.items.map(view),
    nextCursor:
      page.nextCursor === undefined ? null : Buffer.from(JSON.stringify({ f: filtersDigest(where), a: page.nextCursor }), 'utf8').toString('base64url'),
  };
};

export const getDiscrepancy = async (documents: DocumentStore, collections: ReconciliationCollections, id: string) => {
  const found = await documents.get<Stored<DiscrepancyDocument>>(collections.discrepancies!, id);
  if (found === undefined) throw new NotFoundError('discrepancy', id);
  return view(found);
};

/** Per provider and currency: what matched, what is open by code, and the ledger-vs-provider delta. */
export const reconciliationSummary = async (documents: DocumentStore, collections: ReconciliationCollections) => {
  const items: SummaryDocument[] = [];
  let after: string | undefined;
  do {
    const page = await documents.find<Stored<SummaryDocument>>(collections.summary!, { limit: 1000, ...(after === undefined ? {} : { after }) });
    items.push(...page.items);
    after = page.nextCursor;
  } while (after !== undefined);
  return {
    items: items.map(({ _id: _, ...summary }) => ({
      ...summary,
      openTotal: Object.values(summary.open).reduce((sum, count) => sum + (count ?? 0), 0),
    })),
  };
};
