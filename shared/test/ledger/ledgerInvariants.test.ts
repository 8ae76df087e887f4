import { expect } from 'chai';
import { checkLedger } from '../../src/ledger/ledgerInvariants.js';
import { ledgerCatalog, type LedgerEvent } from '../../src/ledger/ledgerCatalog.js';
import type { RecordedEvent } from '../../src/eventStore/eventStore.js';
import { InvalidRecordedEventError, UnsupportedEventVersionError } from '../../src/events/errors.js';

const ACCOUNT = '7300000000000000001';
const BANK = '7300000000000000002';
const PAYOUT = '7300000000000000100';
const AT = '2026-01-01T00:00:00.000Z';

/** The events as the store would give them back, one position each. */
const recorded = (events: Omit<LedgerEvent, 'id' | 'metadata'>[]): RecordedEvent[] =>
  events.map((event, index) => {
    const encoded = ledgerCatalog.encode({
      ...event,
      id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
      version: 1,
      metadata: { $correlationId: 'c', actor: 'test', occurredAt: AT },
    } as LedgerEvent);
    return {
      streamName: 'account-x',
      id: encoded.id,
      type: encoded.type,
      revision: BigInt(index),
      position: BigInt(index + 1),
      created: new Date(AT),
      data: encoded.data,
      metadata: encoded.metadata,
    };
  });

const opened = (accountId: string, kind: 'merchant' | 'system') =>
  ({ type: 'AccountOpened', data: { accountId, ownerId: 'o', currency: 'EUR', kind, overdraftLimit: 0n } }) as const;
const movement = { fromAccountId: ACCOUNT, toAccountId: BANK, amount: 600n, currency: 'EUR' as const, requestedAt: AT };
const deposit = [
  opened(ACCOUNT, 'merchant'),
  opened(BANK, 'system'),
  {
    type: 'AccountCredited',
    data: {
      accountId: ACCOUNT,
      journal: { id: '7300000000000000200', kind: 'deposit', leg: 'first', counterpartyAccountId: BANK },
      amount: 1_000n,
      currency: 'EUR',
    },
  },
  {
    type: 'AccountDebited',
    data: {
      accountId: BANK,
      journal: { id: '7300000000000000200', kind: 'deposit', leg: 'second', counterpartyAccountId: ACCOUNT },
      amount: 1_000n,
      currency: 'EUR',
    },
  },
  {
    type: 'DepositCompleted',
    data: {
      ...movement,
      fromAccountId: BANK,
      toAccountId: ACCOUNT,
      amount: 1_000n,
      depositId: '7300000000000000200',
      completedAt: AT,
    },
  },
] as const;
const hold = (amount: bigint, holdId = PAYOUT) =>
  ({ type: 'AccountFundsHeld', data: { accountId: ACCOUNT, holdId, amount, currency: 'EUR', purpose: 'payout' } }) as const;

describe('checkLedger with holds and provider journals', () => {
  it('accepts a payout that posts its hold and ends with JournalCompleted', () => {
    const report = checkLedger(
      recorded([
        ...deposit,
        hold(600n),
        {
          type: 'AccountHoldReleased',
          data: { accountId: ACCOUNT, holdId: PAYOUT, amount: 600n, currency: 'EUR', outcome: 'posted' },
        },
        {
          type: 'AccountDebited',
          data: {
            accountId: ACCOUNT,
            journal: { id: PAYOUT, kind: 'payout', leg: 'first', counterpartyAccountId: BANK },
            amount: 600n,
            currency: 'EUR',
            movement,
          },
        },
        {
          type: 'AccountCredited',
          data: {
            accountId: BANK,
            journal: { id: PAYOUT, kind: 'payout', leg: 'second', counterpartyAccountId: ACCOUNT },
            amount: 600n,
            currency: 'EUR',
          },
        },
        { type: 'JournalCompleted', data: { ...movement, kind: 'payout', journalId: PAYOUT, completedAt: AT } },
      ] as never),
    );
    expect(report.violations).to.deep.equal([]);
    expect(report.openJournals).to.equal(0);
    expect(report.completedJournals).to.equal(2);
  });

  it('reports a hold beyond the available balance, and a debit that spends held money', () => {
    expect(checkLedger(recorded([...deposit, hold(1_001n)] as never)).violations).to.have.length(1);
    const spent = checkLedger(
      recorded([
        ...deposit,
        hold(600n),
        {
          type: 'AccountDebited',
          data: {
            accountId: ACCOUNT,
            journal: { id: '7300000000000000300', kind: 'transfer', leg: 'first', counterpartyAccountId: BANK },
            amount: 500n,
            currency: 'EUR',
            movement: { ...movement, amount: 500n },
          },
        },
      ] as never),
    );
    expect(spent.violations.some((violation) => violation.includes('overdrawn'))).to.equal(true);
  });

  it('counts a provider journal without its outcome as money in transit', () => {
    const report = checkLedger(
      recorded([
        ...deposit,
        {
          type: 'AccountDebited',
          data: {
            accountId: ACCOUNT,
            journal: { id: '7300000000000000400', kind: 'refund', leg: 'first', counterpartyAccountId: BANK },
            amount: 600n,
            currency: 'EUR',
            movement,
          },
        },
      ] as never),
    );
    expect(report.violations).to.deep.equal([]);
    expect(report.inTransit.get('EUR')).to.equal(600n);
  });
});

describe('checkLedger reading the books from the log', () => {
  const withData = (events: RecordedEvent[], index: number, change: (data: Record<string, unknown>) => Record<string, unknown>) =>
    events.map((event, at) => (at === index ? { ...event, data: change(event.data) as RecordedEvent['data'] } : event));

  it('refuses a posting whose folded fields are malformed', () => {
    const events = recorded([...deposit] as never);
    for (const change of [
      (data: Record<string, unknown>) => ({ ...data, amount: '-5' }),
      (data: Record<string, unknown>) => ({ ...data, accountId: 'nobody' }),
      (data: Record<string, unknown>) => ({ ...data, journal: { ...(data.journal as object), leg: 'third' } }),
    ]) {
      expect(() => checkLedger(withData(events, 2, change))).to.throw(InvalidRecordedEventError, /data\.(amount|accountId|journal\.leg)/);
    }
  });

  it('reads an event of another version than the current one through the full decode', () => {
    const events = recorded([...deposit] as never);
    const newer = events.map((event) => (event.type === 'AccountCredited' ? { ...event, metadata: { ...event.metadata, schemaVersion: 2 } } : event));
    expect(() => checkLedger(newer)).to.throw(UnsupportedEventVersionError);
    expect(checkLedger(events).balances.get(ACCOUNT)?.balance).to.equal(1_000n);
  });
});
