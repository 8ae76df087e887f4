/**
 * A deposit names the account it pays into; a system account is never one, whether or not it has
 * been opened yet (system accounts are opened on first use, by any request of the same currency).
 */
import { expect } from 'chai';
import { accountStream, systemAccountId, type EventStore, type RecordedEvent } from '@folio/shared';
import { createApiHarness, expectProblem, ledgerEvents, type ApiHarness } from './apiHarness.js';

/**
 * `store` whose first read of `streamName` while `hold.armed` answers what the stream held then,
 * only once `gate` opens.
 */
const firstReadHeldUntil = (
  store: EventStore,
  streamName: string,
  hold: { armed: boolean },
  gate: Promise<void>,
  reached: () => void,
): EventStore =>
  new Proxy(store, {
    get(target, property) {
      if (property === 'readStream') {
        return (name: string, options?: Parameters<EventStore['readStream']>[1]) => {
          if (name !== streamName || !hold.armed) return target.readStream(name, options);
          hold.armed = false;
          return (async function* () {
            const events: RecordedEvent[] = [];
            let failure: unknown;
            try {
              for await (const event of target.readStream(name, options)) events.push(event);
            } catch (error) {
              failure = error;
            }
            reached();
            await gate;
            if (failure !== undefined) throw failure;
            yield* events;
          })();
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

describe('write API over HTTP: deposits into system accounts', () => {
  let harness: ApiHarness;
  let openGate: () => void;
  let readReached: () => void;
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  const reached = new Promise<void>((resolve) => (readReached = resolve));
  const chfBank = systemAccountId({ role: 'bank', currency: 'CHF' });
  const hold = { armed: false };

  before(async () => {
    harness = await createApiHarness({}, (store) => firstReadHeldUntil(store, accountStream(chfBank), hold, gate, readReached));
  });
  after(async () => {
    openGate();
    await harness.close();
  });

  it('refuses one into a system account not opened yet with 422 system-account-not-allowed, moving nothing', async () => {
    const before = (await ledgerEvents(harness.store)).length;
    for (const [accountId, currency] of [
      [systemAccountId({ role: 'fees', currency: 'EUR' }), 'EUR'],
      [systemAccountId({ role: 'suspense', currency: 'USD' }), 'EUR'],
    ] as const) {
      expectProblem(await harness.api.deposit(accountId, '500', currency), 422, 'system-account-not-allowed');
    }
    expect((await ledgerEvents(harness.store)).length).to.equal(before);
  });

  it('refuses one into a system account opened while the deposit is being decided', async () => {
    hold.armed = true;
    const intoBank = harness.api.deposit(chfBank, '700', 'CHF');
    // Either the deposit looks at the bank's stream (held until another deposit has opened it) or it answers without looking.
    await Promise.race([reached, intoBank]);
    hold.armed = false;
    const customer = await harness.api.openFundedAccount('300', { currency: 'CHF' });
    openGate();
    expectProblem(await intoBank, 422, 'system-account-not-allowed');
    const bank = await harness.api.account(chfBank);
    expect(bank.balance.posted).to.equal('-300');
    expect((await harness.api.account(customer)).balance.posted).to.equal('300');
    const postingsToBank = (await ledgerEvents(harness.store)).filter(
      (event) => event.streamName === accountStream(chfBank) && event.type === 'AccountCredited',
    );
    expect(postingsToBank).to.deep.equal([]);
  });
});
