import { expect } from 'chai';
import { projectionDefinitions } from '@folio/projections';
import { DEFAULT_READ_WAIT_MS, readWaitMsFromEnvironment } from '../src/readYourWrites.js';
import { expectProblem, ReadStack } from './readStack.js';

describe('read API: read-your-writes', () => {
  let stack: ReadStack;
  let alice: string;
  let bob: string;

  before(async () => {
    stack = await ReadStack.start({ readWaitMs: 300 });
    alice = await stack.openAccount();
    bob = await stack.openAccount();
    await stack.deposit(alice, '5000', 'funding');
    await stack.settle();
  });

  after(() => stack.stop());

  it("answers with a transfer's effect when given its position, right after the write", async () => {
    for (let round = 1; round <= 5; round += 1) {
      const transfer = await stack.transfer(alice, bob, '7', { reference: `ryw round${round}` });
      const [balance, found, byId] = await Promise.all([
        stack.get(`/v1/accounts/${bob}/balance?position=${transfer.position}`),
        stack.get(`/v1/transactions?q=round${round}&position=${transfer.position}`),
        stack.get(`/v1/transactions/${transfer.id}?position=${transfer.position}`),
      ]);
      expect(balance.status, balance.text).to.equal(200);
      expect(balance.body.posted).to.equal(String(7 * round));
      expect(BigInt(balance.body.position) >= BigInt(transfer.position)).to.equal(true);
      expect(BigInt(balance.headers['folio-read-position']!) >= BigInt(transfer.position)).to.equal(true);
      expect(found.body.items.map((item: any) => item.id)).to.deep.equal([transfer.id]);
      expect(byId.body.status).to.equal('completed');
    }
  });

  it('says 503 read-model-behind, within the bound, for a position the read models have not reached', async () => {
    const ahead = stack.lastWrite + 1_000_000n;
    for (const path of [`/v1/accounts/${alice}/balance`, '/v1/transactions', `/v1/accounts/${alice}/history`, '/v1/projections']) {
      const started = Date.now();
      const response = await stack.get(`${path}?position=${ahead}`);
      const elapsed = Date.now() - started;
      const problem = expectProblem(response, 503, 'read-model-behind');
      expect(elapsed, 'waited the bound, not much longer').to.be.within(290, 1_500);
      expect(response.headers['retry-after']).to.equal('1');
      expect(problem.detail).to.match(/not caught up/);
      expect(problem.requestedPosition).to.equal(ahead.toString());
      expect(BigInt(problem.readPosition) >= stack.lastWrite).to.equal(true);
      expect(problem.waitedMs).to.equal(300);
      expect(problem.projections.map((projection: any) => projection.name)).to.have.members(projectionDefinitions.map((definition) => definition.name));
      expect(response.headers['folio-read-position']).to.equal(problem.readPosition);
    }
  });

  it('answers at once for a position the read models have passed, and stamps every answer', async () => {
    const response = await stack.get(`/v1/accounts/${alice}/balance?position=0`);
    expect(response.status, response.text).to.equal(200);
    expect(response.headers['folio-read-position']).to.match(/^[0-9]+$/);
    expect((await stack.get('/v1/transactions?limit=abc')).headers['folio-read-position']).to.match(/^[0-9]+$/);
  });

  it('reads its wait bound from FOLIO_READ_WAIT_MS, refusing a bad value by name', () => {
    expect(readWaitMsFromEnvironment({})).to.equal(DEFAULT_READ_WAIT_MS);
    expect(readWaitMsFromEnvironment({ FOLIO_READ_WAIT_MS: '500' })).to.equal(500);
    for (const bad of ['0', '-1', '1.5', 'soon', '60001']) {
      expect(() => readWaitMsFromEnvironment({ FOLIO_READ_WAIT_MS: bad }), bad).to.throw(/FOLIO_READ_WAIT_MS/);
    }
  });
});
