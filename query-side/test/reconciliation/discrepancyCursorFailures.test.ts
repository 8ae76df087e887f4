import { expect } from 'chai';
import { InvalidArgumentError, StoreUnavailableError, ValidationError, type DocumentStore } from '@folio/shared';
import { listDiscrepancies } from '../../src/reconciliation/reconciliationReads.js';

/** A document store whose every `find` fails with `failure`. */
const failingFinds = (failure: Error): DocumentStore =>
  new Proxy({} as DocumentStore, {
    get: (_target, method) => (method === 'find' ? () => Promise.reject(failure) : () => Promise.reject(new Error(`${String(method)}: not in this test`))),
  });

describe('read API: a page of discrepancies the store fails to read', () => {
  const collections = { discrepancies: 'reconciliation_discrepancies' };
  const storedCursor = Buffer.from(JSON.stringify(['sortablePosition', 'asc', '0001', 'd-1']), 'utf8').toString('base64url');

  const nextPage = async (documents: DocumentStore): Promise<unknown> => {
    const first = await listDiscrepancies(
      { ...documents, find: async () => ({ items: [], nextCursor: storedCursor }) } as DocumentStore,
      collections,
      { limit: 1 },
    );
    return listDiscrepancies(documents, collections, { limit: 1, cursor: first.nextCursor! }).then(
      () => undefined,
      (error: unknown) => error,
    );
  };

  it("answers a store that lost the server's cursor as unavailable, not as the caller's bad cursor", async () => {
    const lost = new StoreUnavailableError('MongoDB is unavailable: cursor id 7 not found', { cause: new Error('CursorNotFound') });
    const failure = await nextPage(failingFinds(lost));
    expect(failure).to.equal(lost);
  });

  it('answers an inner cursor the store refuses as the caller\'s bad cursor', async () => {
    const failure = await nextPage(failingFinds(new InvalidArgumentError('after is not a cursor returned by find')));
    expect(failure).to.be.instanceOf(ValidationError);
    expect((failure as ValidationError).issues).to.deep.equal([{ path: 'query.cursor', message: 'not a cursor this API issued' }]);
  });
});
