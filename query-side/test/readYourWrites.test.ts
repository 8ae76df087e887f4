import { expect } from 'chai';
import { createProjectorGroup, projectionDefinitions, reconciliationProjection } from '@folio/projections';
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

  it('says 400, once the bound is over, for a position beyond the head of the log: no write answered with it', async () => {
    const beyond = (await stack.eventStore.headPosition())! + 1_000_000n;
    for (const path of [`/v1/accounts/${alice}/balance`, '/v1/transactions', `/v1/accounts/${alice}/history`, '/v1/projections']) {
      const started = Date.now();
      const response = await stack.get(`${path}?position=${beyond}`);
      const problem = expectProblem(response, 400, 'validation');
      expect(Date.now() - started, 'waited the bound, not much longer').to.be.within(290, 1_500);
      expect(problem.detail).to.contain(`query.position: ${beyond} was never written`);
      expect(problem.errors.map((error: { path: string }) => error.path)).to.deep.equal(['query.position']);
      expect(response.headers['folio-read-position']).to.match(/^[0-9]+$/);
    }
  });

  describe('while the read models are behind the log', () => {
    let behind: ReadStack;
    let carol: string;
    before(async () => {
      behind = await ReadStack.start({ projectLater: true, readWaitMs: 300 });
      carol = await behind.openAccount();
      await behind.deposit(carol, '100', 'not projected yet');
    });
    after(() => behind.stop());

    it('says 503 read-model-behind, within the bound, for a written position they have not reached', async () => {
      const written = behind.lastWrite;
      const reads = {
        [`/v1/accounts/${carol}/balance`]: ['balances'],
        '/v1/transactions': ['history'],
        [`/v1/accounts/${carol}/history`]: ['balances', 'history'],
        '/v1/projections': projectionDefinitions.map((definition) => definition.name),
      };
      for (const [path, readsFrom] of Object.entries(reads)) {
        const started = Date.now();
        const response = await behind.get(`${path}?position=${written}`);
        const problem = expectProblem(response, 503, 'read-model-behind');
        expect(Date.now() - started, 'waited the bound, not much longer').to.be.within(290, 1_500);
        expect(response.headers['retry-after']).to.equal('1');
        expect(problem.detail).to.match(/not caught up/);
        expect(problem.requestedPosition).to.equal(written.toString());
        expect(problem.readPosition).to.equal(null);
        expect(problem.waitedMs).to.equal(300);
        expect(problem.projections.map((projection: any) => projection.name), path).to.deep.equal(readsFrom);
        expect(response.headers['folio-read-position']).to.equal('-1');
      }
    });
  });

  describe('while one read model is behind the others', () => {
    let partly: ReadStack;
    let dave: string;
    let rent: { id: string; position: string };
    before(async () => {
      // A sandbox that never calls back: the log holds only what the test writes.
      partly = await ReadStack.start({
        projectLater: true,
        readWaitMs: 300,
        write: { sandboxFaults: { paymentSilenceRate: 1, payoutSilenceRate: 1, latencyMs: { min: 0, max: 0 } } },
      });
      dave = await partly.openAccount();
      await partly.deposit(dave, '900', 'funding');
      const merchant = (await partly.post('/v1/accounts', { ownerId: 'shop-1', currency: 'EUR', kind: 'merchant' }, 201)).id;
      // A payment: reconciliation takes it, so its read model is behind the transfer written after it.
      await partly.post('/v1/payments', { merchantAccountId: merchant, amount: '400', currency: 'EUR', provider: 'sandbox' }, 201);
      rent = await partly.transfer(dave, await partly.openAccount(), '300', { reference: 'rent april' });
      // Every read model but reconciliation catches up (as while a new version of it is built).
      const others = createProjectorGroup({
        eventStore: partly.eventStore,
        documents: partly.documents,
        searchIndex: partly.searchIndex,
        readModels: projectionDefinitions.filter((definition) => definition !== reconciliationProjection).map((definition) => ({ definition })),
      });
      await others.start();
      await others.stop();
    });
    after(() => partly.stop());

    it('answers reads of the read models that reflect the write at once, and waits only for the one a read reads', async () => {
      for (const path of [`/v1/accounts/${dave}/balance`, `/v1/transactions?q=april&`, `/v1/transactions/${rent.id}`, `/v1/accounts/${dave}/history`]) {
        const started = Date.now();
        const response = await partly.read(`${path}${path.endsWith('&') ? '' : '?'}position=${rent.position}`);
        expect(response.status, `${path}: ${response.text}`).to.equal(200);
        expect(Date.now() - started, path).to.be.below(250);
        expect(BigInt(response.headers['folio-read-position']!) >= BigInt(rent.position), path).to.equal(true);
      }
      const summary = await partly.read(`/v1/reconciliation/summary?position=${rent.position}`);
      const problem = expectProblem(summary, 503, 'read-model-behind');
      expect(problem.projections.map((projection: { name: string }) => projection.name)).to.deep.equal([reconciliationProjection.name]);
      expect(summary.headers['folio-read-position']).to.equal('-1');
      expectProblem(await partly.read(`/v1/projections?position=${rent.position}`), 503, 'read-model-behind');
    });

    it('answers the currencies at once: they read no read model, so none holds them back', async () => {
      const response = await partly.read(`/v1/currencies?position=${rent.position}`);
      expect(response.status, response.text).to.equal(200);
      expect(response.body.items).to.deep.include({ code: 'EUR', exponent: 2 });
      // A position no write answered with is still refused.
      const beyond = (await partly.eventStore.headPosition())! + 1_000_000n;
      expectProblem(await partly.read(`/v1/currencies?position=${beyond}`), 400, 'validation');
    });
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
