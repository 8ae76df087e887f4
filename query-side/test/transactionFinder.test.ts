import { expect } from 'chai';
import { NotFoundError, ValidationError, type DocumentStore, type GlobalPosition, type SearchIndex } from '@folio/shared';
import type { TransactionDocument } from '@folio/projections';
import { ReadModelBehindError } from '../src/readYourWrites.js';
import { createTransactionFinder, type TransactionFinderOptions } from '../src/transactionSearch.js';

/**
 * The race between the two read models, which real projectors win too fast to observe: the
 * projector indexes a batch before it commits the documents, so a search may find a transaction
 * whose document is not there yet, or older than the hit.
 */
describe('transaction finder: a hit ahead of its document', () => {
  const document = (lastPosition: string, status: TransactionDocument['status']): TransactionDocument => ({
    _id: '42',
    id: '42',
    type: 'transfer',
    status,
    fromAccountId: '1',
    toAccountId: '2',
    amount: '1050',
    sortableAmount: '00000000000000001050',
    currency: 'EUR',
    reference: 'rent',
    description: null,
    metadata: null,
    requestedAt: '2026-03-01T10:00:00.000Z',
    endedAt: null,
    failureReason: null,
    paymentId: null,
    payoutId: null,
    provider: null,
    providerRef: null,
    lastPosition,
    sortableLastPosition: lastPosition.padStart(20, '0'),
  });

  /** The history holds `stored` until the projector reaches the hit, then `committed`. */
  const finderWith = (stored: TransactionDocument | undefined, committed: TransactionDocument, reaches: boolean) => {
    let reached = false;
    const waits: GlobalPosition[] = [];
    const waitedFor: (readonly string[] | undefined)[] = [];
    const documents = { get: async () => (reached ? committed : stored) } as unknown as DocumentStore;
    const searchIndex = {
      search: async () => ({ hits: [{ id: '42', version: 20n, fields: {} }] }),
    } as unknown as SearchIndex;
    const status = { name: 'history', position: 10n, caughtUp: true, lastEventAt: undefined, filter: {} };
    const readModels: TransactionFinderOptions['readModels'] = {
      serving: async () => ({ collections: { transactions: 'history_transactions' }, status }),
      waitFor: async (position, _timeoutMs, names) => {
        waits.push(position);
        waitedFor.push(names);
        reached = reaches;
        return reaches;
      },
      status: () => [status],
    };
    return { find: createTransactionFinder({ documents, searchIndex, readModels, readWaitMs: 50 }), waits, waitedFor };
  };

  const page = { filters: { text: 'rent' }, sort: '-requestedAt' as const, limit: 10 };

  it('waits for the history, and only the history, to reach a hit whose document is missing', async () => {
    const { find, waits, waitedFor } = finderWith(undefined, document('20', 'completed'), true);
    const result = await find(page);
    expect(waits).to.deep.equal([20n]);
    expect(waitedFor).to.deep.equal([['history']]);
    expect(result.items.map((item) => item.status)).to.deep.equal(['completed']);
  });

  it('waits for the history to reach a hit newer than its document', async () => {
    const { find, waits } = finderWith(document('10', 'in_transit'), document('20', 'completed'), true);
    expect((await find(page)).items.map((item) => item.status)).to.deep.equal(['completed']);
    expect(waits).to.deep.equal([20n]);
  });

  it('does not wait when the documents are as new as the hits', async () => {
    const { find, waits } = finderWith(document('20', 'completed'), document('20', 'completed'), true);
    expect((await find(page)).items).to.have.length(1);
    expect(waits).to.deep.equal([]);
  });

  it('says the read model is behind when the history does not catch up within the bound', async () => {
    const { find } = finderWith(undefined, document('20', 'completed'), false);
    const error = await find(page).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).to.be.instanceOf(ReadModelBehindError);
    expect((error as ReadModelBehindError).problemExtensions()).to.deep.include({ requestedPosition: '20', readPosition: '10' });
  });

  /** A finder over a search index the history projector has not created yet. */
  const finderWithoutIndex = () => {
    const searchIndex = {
      search: async () => {
        throw new NotFoundError('search index', 'history-transactions');
      },
    } as unknown as SearchIndex;
    const readModels = { waitFor: async () => true, status: () => [] } as unknown as TransactionFinderOptions['readModels'];
    return createTransactionFinder({ documents: {} as DocumentStore, searchIndex, readModels, readWaitMs: 50 });
  };

  it('finds nothing, rather than failing, before the history projector has created its index', async () => {
    const find = finderWithoutIndex();
    expect(await find(page)).to.deep.equal({ items: [], nextCursor: null });
  });

  it('refuses a cursor whose position the index would refuse, as it would, before the history projector has created its index', async () => {
    let created = true;
    const searchIndex = {
      search: async () => {
        if (!created) throw new NotFoundError('search index', 'history-transactions');
        return { hits: [], nextCursor: 'issued-by-the-index' };
      },
    } as unknown as SearchIndex;
    const status = { name: 'history', position: 10n, caughtUp: true, lastEventAt: undefined, filter: {} };
    const readModels: TransactionFinderOptions['readModels'] = {
      serving: async () => ({ collections: { transactions: 'history_transactions' }, status }),
      waitFor: async () => true,
      status: () => [status],
    };
    const find = createTransactionFinder({ documents: {} as DocumentStore, searchIndex, readModels, readWaitMs: 50 });
    const { nextCursor } = await find(page);
    // This query's cursor, around a position of the other sort direction.
    const issued = JSON.parse(Buffer.from(nextCursor!, 'base64url').toString('utf8')) as { q: string; a: string };
    const ascending = Buffer.from(JSON.stringify({ f: 'requestedAt', d: 'asc', k: '0', id: '42' }), 'utf8').toString('base64url');
    const cursor = Buffer.from(JSON.stringify({ ...issued, a: ascending }), 'utf8').toString('base64url');
    created = false;
    const error = await find({ ...page, cursor }).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).to.be.instanceOf(ValidationError);
    expect((error as ValidationError).issues).to.deep.equal([{ path: 'query.cursor', message: 'not a cursor of this query: it belongs to another sort order' }]);
  });

  it('refuses a search text the index would refuse, as it would, before the history projector has created its index', async () => {
    const find = finderWithoutIndex();
    const refusals: [string, string][] = [
      ['#', 'holds no letter or digit to search for: add a word or number, or leave it empty to search without text'],
      [Array.from({ length: 40 }, (_, i) => `w${i}`).join(' '), 'more than 32 words'],
    ];
    for (const [text, message] of refusals) {
      const error = await find({ ...page, filters: { text } }).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(error, text).to.be.instanceOf(ValidationError);
      expect((error as ValidationError).issues, text).to.deep.equal([{ path: 'query.q', message }]);
    }
  });
});
