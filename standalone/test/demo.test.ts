import { expect } from 'chai';
import { DEMO_CURRENCIES } from '../src/demo/demoCatalog.js';
import { createRandom } from '../src/demo/demoRandom.js';
import { runDemo } from '../src/demo/demoRun.js';
import { demoCast, inCurrency, nextStep, settle, type DemoAccount, type DemoStep, type DemoWorld } from '../src/demo/demoScenario.js';
import { createWriteClient } from '../src/demo/writeClient.js';
import { startFolioInProcess } from './fixtures/inProcessFolio.js';

const worldOf = (seed: number): DemoWorld => ({
  accounts: demoCast().map((member, i): DemoAccount => ({ ...member, id: String(1000 + i), frozen: false, balance: inCurrency(member.currency, 500_000n) })),
  random: createRandom(seed),
  sequence: 0,
  orders: [],
});

describe('npm run demo: the story it writes', () => {
  it('casts customers and merchants in five currencies, JPY and OMR among them', () => {
    const cast = demoCast();
    expect(new Set(cast.map((member) => member.currency.code))).to.deep.equal(new Set(['EUR', 'USD', 'GBP', 'JPY', 'OMR']));
    for (const currency of DEMO_CURRENCIES) {
      const members = cast.filter((member) => member.currency === currency);
      expect(members.filter((member) => member.kind === 'customer').length, currency.code).to.be.at.least(3);
      expect(members.filter((member) => member.kind === 'merchant').length, currency.code).to.be.at.least(1);
    }
    expect(new Set(cast.map((member) => member.ownerId)).size, 'owner ids are unique').to.equal(cast.length);
  });

  it('converts amounts exactly into each currency, never to nothing', () => {
    const [eur, , , jpy, omr] = DEMO_CURRENCIES;
    expect(inCurrency(eur!, 12_345n)).to.equal(12_345n);
    expect(inCurrency(jpy!, 12_345n)).to.equal(19_752n);
    expect(inCurrency(omr!, 12_345n)).to.equal(51_231n);
    expect(inCurrency(jpy!, 0n)).to.equal(1n);
  });

  it('writes every kind of step, within one currency, with unique references, and freezes a merchant only to release it', () => {
    const world = worldOf(42);
    const steps: DemoStep[] = [];
    for (let i = 0; i < 3000; i++) {
      const step = nextStep(world);
      steps.push(step);
      settle(world, step, step.kind === 'freeze' || step.kind === 'unfreeze' || step.kind === 'payment' ? 'done' : 'completed');
    }
    const transfers = steps.filter((step) => step.kind === 'transfer');
    expect(new Set(steps.map((step) => step.kind))).to.deep.equal(new Set(['deposit', 'transfer', 'payment', 'freeze', 'unfreeze']));
    for (const step of steps) {
      if (step.kind !== 'payment') continue;
      expect(step.merchant.kind, step.description).to.equal('merchant');
      expect(step.merchant.currency, step.description).to.equal(step.customer.currency);
      expect(step.amount > 0n, step.description).to.equal(true);
    }
    for (const prefix of ['SO-', 'RF-SO-', 'P2P-']) expect(transfers.some((step) => step.reference.startsWith(prefix)), prefix).to.equal(true);
    for (const step of transfers) {
      expect(step.from.currency, step.reference).to.equal(step.to.currency);
      expect(step.from, step.reference).to.not.equal(step.to);
      expect(step.amount > 0n, step.reference).to.equal(true);
      expect(step.metadata.channel, step.reference).to.be.a('string');
    }
    expect(new Set(transfers.map((step) => step.reference)).size, 'unique references').to.equal(transfers.length);
    const reviews = steps.filter((step) => step.kind === 'freeze' || step.kind === 'unfreeze').map((step) => step.kind);
    expect(reviews.length).to.be.greaterThan(4);
    reviews.forEach((kind, i) => expect(kind, `review ${i}`).to.equal(i % 2 === 0 ? 'freeze' : 'unfreeze'));
  });

  it('keeps spending within what it believes an account holds', () => {
    const world = worldOf(7);
    for (let i = 0; i < 3000; i++) {
      const step = nextStep(world);
      if (step.kind === 'transfer' && !step.reference.startsWith('RF-')) expect(step.amount <= step.from.balance / 3n, step.reference).to.equal(true);
      settle(world, step, step.kind === 'freeze' || step.kind === 'unfreeze' ? 'done' : 'completed');
    }
    for (const account of world.accounts) expect(account.balance >= 0n, account.name).to.equal(true);
  });

  it('fills a running Folio over its write API until the number of transactions asked for', async function () {
    this.timeout(60_000);
    const folio = await startFolioInProcess('folio-demo-');
    try {
      const lines: string[] = [];
      const tally = await runDemo({
        client: createWriteClient(folio.baseUrl, folio.adminKey),
        durationMs: 50_000,
        transactions: 200,
        seed: 3,
        concurrency: 4,
        progressEveryMs: 100,
        report: (line) => lines.push(line),
      });
      expect(tally.accounts).to.equal(demoCast().length);
      expect(tally.transactions).to.be.within(200, 203);
      expect(tally.completed + tally.failed).to.equal(tally.transactions);
      expect(lines[0]).to.equal(`opened ${tally.accounts} accounts in 5 currencies`);
      expect(await folio.system.projections.waitFor((await folio.system.eventStore.headPosition())!, 10_000)).to.equal(true);
      const read = async (query: string) =>
        ((await (await fetch(`${folio.baseUrl}/v1/transactions?${query}&limit=100`, { headers: folio.auth })).json()) as { items: { currency: string; reference: string }[] }).items;
      for (const currency of ['JPY', 'OMR', 'EUR']) expect((await read(`currency=${currency}`)).length, currency).to.be.greaterThan(0);
      const purchase = (await read('type=transfer')).find((item) => /^SO-\d{6}$/.test(item.reference));
      expect(purchase, 'a purchase').to.not.equal(undefined);
      expect((await read(`q=${purchase!.reference}`)).map((item) => item.reference)).to.include(purchase!.reference);
      expect(tally.payments, 'card payments').to.be.greaterThan(0);
      const payments = (await (await fetch(`${folio.baseUrl}/v1/payments?provider=sandbox&limit=100`, { headers: folio.auth })).json()) as { items: { providerRef: string | null }[] };
      expect(payments.items.length, 'payments in the read model').to.equal(Math.min(tally.payments, 100));
      expect(payments.items.every((payment) => payment.providerRef !== null), 'every payment was submitted').to.equal(true);
    } finally {
      await folio.stop();
    }
  });

  it('says how to start Folio when nothing listens', async () => {
    const client = createWriteClient('http://127.0.0.1:9', undefined);
    try {
      await client.ready();
      expect.fail('ready() should have refused');
    } catch (error) {
      expect((error as Error).message).to.contain('Folio is not reachable at http://127.0.0.1:9').and.contain('npm start');
    }
  });
});
