import { expect } from 'chai';
import {
  accountStream,
  collect,
  ledgerCatalog,
  systemAccountId,
  toProblem,
  WrongExpectedRevisionError,
  type EventStore,
  type LedgerEvent,
} from '@folio/shared';
import {
  accountCommandIdentity,
  accountEventTypes,
  createAccountCommandHandler,
  type AccountCommandHandler,
} from '../../src/accounts/accountCommandHandler.js';
import { accountDecider, type AccountCommand } from '../../src/accounts/accountDecider.js';
import { InsufficientFundsError } from '../../src/accounts/accountErrors.js';
import { availableBalance, postedBalance, type AccountEvent, type AccountState } from '../../src/accounts/accountState.js';
import { catalogCodec } from '../../src/commandHandling/catalogCodec.js';
import { commandDigestOf, withoutRunStamps } from '../../src/commandHandling/commandDigest.js';
import { CommandIdReusedError } from '../../src/commandHandling/commandErrors.js';
import { createCommandHandler, type EventCodec, type HandleOptions } from '../../src/commandHandling/commandHandler.js';
import type { EventPayload } from '../../src/commandHandling/decider.js';
import { contextFor, interceptAppends, openTempStore, recordAppends, rejectionOf, type TempStore } from './testSupport.js';

const ACCOUNT = '7300000000000000001';
const COUNTERPARTY = '7300000000000000002';
const JOURNAL = '7300000000000000100';
const BANK = systemAccountId({ role: 'bank', currency: 'EUR' });
const STREAM = accountStream(ACCOUNT);

const open = (handler: AccountCommandHandler, overdraftLimit = 0n) =>
  handler.handle(
    STREAM,
    { type: 'OpenAccount', accountId: ACCOUNT, ownerId: 'owner-1', currency: 'EUR', kind: 'customer', overdraftLimit },
    contextFor(`open-${ACCOUNT}`),
  );

const openBank = (handler: AccountCommandHandler) =>
  handler.handle(
    accountStream(BANK),
    { type: 'OpenAccount', accountId: BANK, ownerId: 'folio', currency: 'EUR', kind: 'system', systemRole: 'bank', overdraftLimit: 0n },
    contextFor('open-bank'),
  );

const posting = (side: 'debit' | 'credit', amount: bigint, accountId = ACCOUNT): Extract<AccountCommand, { type: 'PostDebit' | 'PostCredit' }> => ({
  type: side === 'debit' ? 'PostDebit' : 'PostCredit',
  accountId,
  journal: { id: JOURNAL, kind: 'transfer', leg: 'first', counterpartyAccountId: COUNTERPARTY },
  amount,
  currency: 'EUR',
});

const post = (
  handler: AccountCommandHandler,
  side: 'debit' | 'credit',
  amount: bigint,
  commandId: string,
  options: { accountId?: string; handle?: HandleOptions } = {},
) => {
  const accountId = options.accountId ?? ACCOUNT;
  return handler.handle(accountStream(accountId), posting(side, amount, accountId), contextFor(commandId), options.handle);
};

type AccountEventPayload = EventPayload<AccountEvent>;

/** The account handler with a window of `dedupeWindow` recent commands, and the codec given. */
const accountHandlerWith = (
  eventStore: EventStore,
  options: { dedupeWindow?: number; codec?: EventCodec<AccountEventPayload> } = {},
): AccountCommandHandler =>
  createCommandHandler({
    eventStore,
    codec: options.codec ?? catalogCodec<AccountEventPayload>(ledgerCatalog, accountEventTypes),
    decider: accountDecider,
    commandIdentity: accountCommandIdentity,
    soleWriter: true,
    ...(options.dedupeWindow === undefined ? {} : { dedupeWindow: options.dedupeWindow }),
  });

/** What an earlier version appended: events with a command id and no digest of the command. */
const codecWithoutDigests = (): EventCodec<AccountEventPayload> => {
  const codec = catalogCodec<AccountEventPayload>(ledgerCatalog, accountEventTypes);
  return {
    ...codec,
    encode: (envelope) => {
      const encoded = codec.encode(envelope);
      const { commandDigest: _digest, ...metadata } = encoded.metadata!;
      return { ...encoded, metadata };
    },
  };
};

const readEvents = async (store: EventStore, streamName = STREAM) =>
  (await collect(store.readStream(streamName))).map((recorded) => ({
    recorded,
    event: ledgerCatalog.decode(recorded) as LedgerEvent,
  }));

const openAccount = (state: AccountState) => {
  if (!state.exists) throw new Error('expected an open account');
  return state;
};

/** Revisions are 0..n-1 in order, and the account never went below its limit at any of them. */
const assertStreamSound = async (store: EventStore, streamName = STREAM) => {
  const events = await readEvents(store, streamName);
  expect(events.map(({ recorded }) => recorded.revision)).to.deep.equal(events.map((_, index) => BigInt(index)));
  let credits = 0n;
  let debits = 0n;
  let overdraftLimit = 0n;
  for (const { event } of events) {
    if (event.type === 'AccountOpened') overdraftLimit = event.data.overdraftLimit;
    if (event.type === 'AccountCredited') credits += event.data.amount;
    if (event.type === 'AccountDebited') debits += event.data.amount;
    expect(credits - debits + overdraftLimit >= 0n, `balance ${credits - debits} below the limit`).to.equal(true);
  }
  return events;
};

describe('command handler (account handler on a SQLite store)', () => {
  let temp: TempStore;

  beforeEach(() => {
    temp = openTempStore();
  });

  afterEach(async () => {
    await temp.dispose();
  });

  it('appends the commands that arrive together for one stream in one append', async () => {
    const { store, calls } = recordAppends(temp.store);
    const handler = createAccountCommandHandler(store);
    await open(handler);
    calls.length = 0;

    const results = await Promise.all([1n, 2n, 3n, 4n, 5n].map((amount) => post(handler, 'credit', amount, `credit-${amount}`)));

    expect(calls.map((call) => [call.streamName, call.events.length])).to.deep.equal([[STREAM, 5]]);
    expect(results.map((result) => result.revision)).to.deep.equal([1n, 2n, 3n, 4n, 5n]);
    expect(results.every((result) => result.appended === 1 && !result.replayed)).to.equal(true);
    const head = await temp.store.headPosition();
    expect(results.every((result) => result.position === head)).to.equal(true);
    expect(postedBalance(openAccount(results[4]!.state))).to.equal(15n);
    await assertStreamSound(temp.store);
  });

  it('gives each command of a batch its own outcome', async () => {
    const { store, calls } = recordAppends(temp.store);
    const handler = createAccountCommandHandler(store);
    await open(handler);
    await post(handler, 'credit', 100n, 'fund');
    calls.length = 0;

    const [first, second, third] = await Promise.allSettled([
      post(handler, 'debit', 60n, 'debit-1'),
      post(handler, 'debit', 60n, 'debit-2'),
      post(handler, 'credit', 10n, 'credit-1'),
    ]);

    expect(first.status).to.equal('fulfilled');
    expect(third.status).to.equal('fulfilled');
    expect(second.status).to.equal('rejected');
    const error = (second as PromiseRejectedResult).reason as InsufficientFundsError;
    expect(error).to.be.instanceOf(InsufficientFundsError);
    expect(error.problemExtensions()).to.include({ available: '40', requested: '60' });
    expect(calls).to.have.length(1);
    expect(calls[0]!.events.map((event) => event.type)).to.deep.equal(['AccountDebited', 'AccountCredited']);
    const { state } = await handler.load(STREAM);
    expect(postedBalance(openAccount(state))).to.equal(50n);
  });

  it('answers a no-op with the stream revision and position and writes nothing', async () => {
    const { store, calls } = recordAppends(temp.store);
    const handler = createAccountCommandHandler(store);
    const opened = await open(handler);
    const again = await handler.handle(
      STREAM,
      { type: 'OpenAccount', accountId: ACCOUNT, ownerId: 'owner-1', currency: 'EUR', kind: 'customer', overdraftLimit: 0n },
      contextFor('open-again'),
    );
    expect(again).to.deep.include({ revision: opened.revision, position: opened.position, appended: 0, replayed: false });
    expect(calls).to.have.length(1);
  });

  it('replays a command id it has seen: same outcome, nothing written', async () => {
    const handler = createAccountCommandHandler(temp.store);
    await open(handler);
    const first = await post(handler, 'credit', 10n, 'credit-once');
    const head = await temp.store.headPosition();

    const second = await post(handler, 'credit', 10n, 'credit-once');

    expect(first).to.deep.include({ appended: 1, replayed: false });
    expect(second).to.deep.include({ appended: 0, replayed: true, revision: first.revision, position: first.position });
    expect(await temp.store.headPosition()).to.equal(head);
    expect(postedBalance(openAccount((await handler.load(STREAM)).state))).to.equal(10n);
  });

  it('recognises an old command id with a cold cache (a restarted process)', async () => {
    const handler = createAccountCommandHandler(temp.store);
    await open(handler);
    const first = await post(handler, 'credit', 10n, 'credit-once');
    await post(handler, 'credit', 5n, 'credit-later');
    const head = await temp.store.headPosition();

    const restarted = createAccountCommandHandler(temp.openAnother());
    const replay = await post(restarted, 'credit', 10n, 'credit-once');

    expect(replay).to.deep.include({ appended: 0, replayed: true, revision: first.revision, position: first.position });
    expect(await temp.store.headPosition()).to.equal(head);
    expect(postedBalance(openAccount(replay.state))).to.equal(15n);
  });

  it('applies a command id once when it arrives twice in the same batch', async () => {
    const handler = createAccountCommandHandler(temp.store);
    await open(handler);

    const results = await Promise.all([post(handler, 'credit', 10n, 'twice'), post(handler, 'credit', 10n, 'twice')]);

    expect(results.map((result) => result.replayed).sort()).to.deep.equal([false, true]);
    const credits = (await readEvents(temp.store)).filter(({ event }) => event.type === 'AccountCredited');
    expect(credits).to.have.length(1);
  });

  it('retries transparently when another process wrote in between', async () => {
    const other = createAccountCommandHandler(temp.openAnother());
    const attempts: unknown[] = [];
    let interleave = false;
    const store = interceptAppends(temp.store, async (call, proceed) => {
      attempts.push(call.options?.expectedRevision);
      if (interleave) {
        interleave = false;
        await post(other, 'credit', 20n, 'other-credit');
      }
      return proceed();
    });
    const handler = createAccountCommandHandler(store);
    await open(handler);
    attempts.length = 0;
    interleave = true;

    const result = await post(handler, 'credit', 10n, 'my-credit');

    expect(attempts).to.deep.equal([0n, 1n]);
    expect(result).to.deep.include({ revision: 2n, appended: 1, replayed: false });
    expect(postedBalance(openAccount(result.state))).to.equal(30n);
    const events = await assertStreamSound(temp.store);
    expect(events.map(({ recorded }) => recorded.metadata?.commandId)).to.deep.equal([`open-${ACCOUNT}`, 'other-credit', 'my-credit']);
  });

  it('keeps concurrent writers of two processes contiguous and complete', async () => {
    const mine = createAccountCommandHandler(temp.store);
    const theirs = createAccountCommandHandler(temp.openAnother());
    await open(mine);

    const amounts = Array.from({ length: 40 }, (_, index) => BigInt(index + 1));
    await Promise.all(
      amounts.map((amount) => post(amount % 2n === 0n ? mine : theirs, 'credit', amount, `credit-${amount}`)),
    );

    const events = await assertStreamSound(temp.store);
    expect(events).to.have.length(41);
    const fresh = createAccountCommandHandler(temp.openAnother());
    expect(postedBalance(openAccount((await fresh.load(STREAM)).state))).to.equal((40n * 41n) / 2n);
  });

  it('decides again after a conflict, so an answer always matches the log', async () => {
    const other = createAccountCommandHandler(temp.openAnother());
    let interleave = false;
    const store = interceptAppends(temp.store, async (_call, proceed) => {
      if (interleave) {
        interleave = false;
        await post(other, 'credit', 100n, 'other-credit');
      }
      return proceed();
    });
    const handler = createAccountCommandHandler(store);
    await open(handler);
    interleave = true;

    const [debit, credit] = await Promise.allSettled([
      post(handler, 'debit', 50n, 'my-debit'),
      post(handler, 'credit', 10n, 'my-credit'),
    ]);

    // Refused on the first attempt's state, which was never committed; after the other process's
    // credit the debit is affordable, and the caller is told what the log says.
    expect(credit.status).to.equal('fulfilled');
    expect(debit.status).to.equal('fulfilled');
    const debits = (await readEvents(temp.store)).filter(({ event }) => event.type === 'AccountDebited');
    expect(debits).to.have.length(1);
  });

  it('fails with WrongExpectedRevisionError after maxAttempts conflicts, writing nothing', async () => {
    let conflicting = false;
    let attempts = 0;
    const store = interceptAppends(temp.store, (call, proceed) => {
      if (!conflicting) return proceed();
      attempts += 1;
      return Promise.reject(new WrongExpectedRevisionError(call.streamName, call.options?.expectedRevision ?? 'any', 7n));
    });
    const handler = createAccountCommandHandler(store);
    await open(handler);
    const head = await temp.store.headPosition();
    conflicting = true;

    const error = await rejectionOf(post(handler, 'credit', 10n, 'never'));

    expect(error).to.be.instanceOf(WrongExpectedRevisionError);
    expect(attempts, 'the default maxAttempts').to.equal(12);
    expect(await temp.store.headPosition()).to.equal(head);
  });

  it('appends unconstrained commands with expectedRevision any, and the others with a revision', async () => {
    const { store, calls } = recordAppends(temp.store);
    const handler = createAccountCommandHandler(store);
    await openBank(handler);
    const unconstrained = { accountId: BANK, handle: { unconstrained: true } };
    await post(handler, 'debit', 5n, 'bank-1', unconstrained);
    await post(handler, 'credit', 5n, 'bank-2', { accountId: BANK });
    // One constrained command in a batch makes the whole append checked.
    await Promise.all([
      post(handler, 'debit', 1n, 'bank-3', unconstrained),
      post(handler, 'debit', 1n, 'bank-4', { accountId: BANK }),
    ]);

    expect(calls.map((call) => call.options?.expectedRevision)).to.deep.equal(['no_stream', 'any', 1n, 2n]);
  });

  it('reports the right revision of an unconstrained append when another process wrote first', async () => {
    const other = createAccountCommandHandler(temp.openAnother());
    let interleave = false;
    let attempts = 0;
    const store = interceptAppends(temp.store, async (_call, proceed) => {
      attempts += 1;
      if (interleave) {
        interleave = false;
        await post(other, 'credit', 7n, 'other-credit', { accountId: BANK });
      }
      return proceed();
    });
    const handler = createAccountCommandHandler(store);
    await openBank(handler);
    attempts = 0;
    interleave = true;

    const result = await post(handler, 'debit', 3n, 'my-debit', { accountId: BANK, handle: { unconstrained: true } });

    expect(attempts).to.equal(1);
    expect(result.revision).to.equal(2n);
    const { state, revision } = await handler.load(accountStream(BANK));
    expect(revision).to.equal(2n);
    expect(postedBalance(openAccount(state))).to.equal(4n);
  });

  it('refuses only on the latest state: a debit the cache cannot afford goes through when another process funded it', async () => {
    const mine = createAccountCommandHandler(temp.store);
    const theirs = createAccountCommandHandler(temp.openAnother());
    await open(mine);
    expect(availableBalance(openAccount((await mine.load(STREAM)).state))).to.equal(0n);
    await post(theirs, 'credit', 100n, 'their-deposit');

    const result = await post(mine, 'debit', 60n, 'my-debit');

    expect(availableBalance(openAccount(result.state))).to.equal(40n);
    const refused = await rejectionOf(post(mine, 'debit', 60n, 'my-second-debit'));
    expect(refused).to.be.instanceOf(InsufficientFundsError);
    await assertStreamSound(temp.store);
  });

  it('knows a stream another process created after this one found it missing', async () => {
    const mine = createAccountCommandHandler(temp.store);
    const theirs = createAccountCommandHandler(temp.openAnother());
    expect((await mine.load(STREAM)).state.exists).to.equal(false);
    await open(theirs);

    expect((await mine.load(STREAM)).state.exists).to.equal(true);
  });

  it('folds an event once when a fresh load reads it while the append that wrote it is being acknowledged', async () => {
    // A networked store: the append has committed but its answer is still on the way when a
    // balance read asks for the stream's latest events, and those arrive after the answer.
    let committed!: () => void;
    const appendCommitted = new Promise<void>((resolve) => (committed = resolve));
    let acknowledge!: () => void;
    const acknowledged = new Promise<void>((resolve) => (acknowledge = resolve));
    let deliver!: () => void;
    const delivered = new Promise<void>((resolve) => (deliver = resolve));
    let holding = false;
    const appending = interceptAppends(temp.store, async (_call, proceed) => {
      const result = await proceed();
      if (holding) {
        committed();
        await acknowledged;
      }
      return result;
    });
    const store = new Proxy(appending, {
      get(target, property) {
        if (property !== 'readStream') return Reflect.get(target, property, target) as unknown;
        return (...args: Parameters<EventStore['readStream']>) =>
          (async function* () {
            const events = await collect(target.readStream(...args));
            if (holding) await delivered;
            yield* events;
          })();
      },
    });
    const handler = createAccountCommandHandler(store);
    await open(handler);
    holding = true;

    const credit = post(handler, 'credit', 100n, 'credit');
    await appendCommitted;
    const balanceRead = handler.load(STREAM, { fresh: true });
    acknowledge();
    await credit;
    deliver();
    await balanceRead;
    holding = false;

    expect(postedBalance(openAccount((await handler.load(STREAM)).state))).to.equal(100n);
    expect(postedBalance(openAccount((await handler.load(STREAM, { fresh: true })).state))).to.equal(100n);
    const refused = await rejectionOf(post(handler, 'debit', 200n, 'too-much'));
    expect(refused).to.be.instanceOf(InsufficientFundsError);
    await assertStreamSound(temp.store);
  });

  it('decides a command with an expected revision only at that revision, counting the batch ahead of it', async () => {
    const handler = createAccountCommandHandler(temp.store);
    await open(handler);
    const close = (expectedRevision: bigint, commandId: string) =>
      handler.handle(STREAM, { type: 'CloseAccount', accountId: ACCOUNT }, contextFor(commandId), { expectedRevision });

    const [credit, stale] = await Promise.allSettled([post(handler, 'credit', 5n, 'credit'), close(0n, 'close-stale')]);

    expect(credit.status).to.equal('fulfilled');
    expect((stale as PromiseRejectedResult).reason).to.be.instanceOf(WrongExpectedRevisionError);
    await post(handler, 'debit', 5n, 'debit');
    const closed = await close(2n, 'close');
    expect(openAccount(closed.state).status).to.equal('closed');
    expect((await readEvents(temp.store)).map(({ event }) => event.type)).to.deep.equal([
      'AccountOpened',
      'AccountCredited',
      'AccountDebited',
      'AccountClosed',
    ]);
  });

  it('lets exactly the affordable 50 of 200 concurrent debits through, from two processes', async () => {
    const mine = createAccountCommandHandler(temp.store);
    const theirs = createAccountCommandHandler(temp.openAnother());
    await open(mine);
    await post(mine, 'credit', 500n, 'fund');

    const outcomes = await Promise.allSettled(
      Array.from({ length: 200 }, (_, index) => post(index % 2 === 0 ? mine : theirs, 'debit', 10n, `debit-${index}`)),
    );

    const succeeded = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const refused = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    expect(succeeded).to.have.length(50);
    expect(refused).to.have.length(150);
    expect(refused.every((outcome) => outcome.reason instanceof InsufficientFundsError)).to.equal(true);
    const events = await assertStreamSound(temp.store);
    expect(events.filter(({ event }) => event.type === 'AccountDebited')).to.have.length(50);
    const account = openAccount((await createAccountCommandHandler(temp.openAnother()).load(STREAM)).state);
    expect(postedBalance(account)).to.equal(0n);
    expect(availableBalance(account)).to.equal(0n);
  });
  describe('a command id used again', () => {
    it('refuses another command under a command id it has seen, with a typed error, writing nothing', async () => {
      const handler = createAccountCommandHandler(temp.store);
      await open(handler);
      await post(handler, 'credit', 10n, 'credit-once');
      const head = await temp.store.headPosition();

      const error = await rejectionOf(post(handler, 'credit', 25n, 'credit-once'));

      expect(error).to.be.instanceOf(CommandIdReusedError);
      expect(error).to.deep.include({ streamName: STREAM, commandId: 'credit-once' });
      expect(await temp.store.headPosition()).to.equal(head);
      expect(postedBalance(openAccount((await handler.load(STREAM)).state))).to.equal(10n);
    });

    it('refuses it after a restart too, when the command is known from the log only', async () => {
      const handler = createAccountCommandHandler(temp.store);
      await open(handler);
      await post(handler, 'credit', 10n, 'credit-once');
      const head = await temp.store.headPosition();

      const restarted = createAccountCommandHandler(temp.openAnother());
      const error = await rejectionOf(post(restarted, 'debit', 10n, 'credit-once'));

      expect(error).to.be.instanceOf(CommandIdReusedError);
      expect(await temp.store.headPosition()).to.equal(head);
    });

    it('refuses the command of a second writer that decided other content under the same id', async () => {
      const mine = createAccountCommandHandler(temp.store);
      const theirs = createAccountCommandHandler(temp.openAnother());
      await open(mine);
      await theirs.load(STREAM);

      const applied = await post(mine, 'credit', 10n, 'shared-id');
      const error = await rejectionOf(post(theirs, 'credit', 20n, 'shared-id'));

      expect(applied).to.deep.include({ appended: 1, replayed: false });
      expect(error).to.be.instanceOf(CommandIdReusedError);
      const credits = (await readEvents(temp.store)).filter(({ event }) => event.type === 'AccountCredited');
      expect(credits.map(({ event }) => event.type === 'AccountCredited' && event.data.amount)).to.deep.equal([10n]);
    });

    it('applies the first of two commands under one id in a batch and refuses the other', async () => {
      const handler = createAccountCommandHandler(temp.store);
      await open(handler);

      const [first, second, retry] = await Promise.allSettled([
        post(handler, 'credit', 10n, 'twice'),
        post(handler, 'credit', 99n, 'twice'),
        post(handler, 'credit', 10n, 'twice'),
      ]);

      expect(first.status === 'fulfilled' && first.value).to.deep.include({ appended: 1, replayed: false });
      expect(retry.status === 'fulfilled' && retry.value).to.deep.include({ appended: 0, replayed: true });
      expect((second as PromiseRejectedResult).reason).to.be.instanceOf(CommandIdReusedError);
      expect(postedBalance(openAccount((await handler.load(STREAM)).state))).to.equal(10n);
    });

    it('decides a different command under one id in a batch on its own when the first was rejected', async () => {
      const handler = createAccountCommandHandler(temp.store);
      await open(handler);

      const [tooMuch, credit] = await Promise.allSettled([post(handler, 'debit', 10n, 'same'), post(handler, 'credit', 10n, 'same')]);

      expect((tooMuch as PromiseRejectedResult).reason).to.be.instanceOf(InsufficientFundsError);
      expect(credit.status === 'fulfilled' && credit.value).to.deep.include({ appended: 1, replayed: false });
    });

    it('answers a retry as a replay when only what a run decides anew differs (request time, refusal wording)', async () => {
      const handler = createAccountCommandHandler(temp.store);
      await open(handler);
      const leg = (requestedAt: string, reason: string): AccountCommand => ({
        ...posting('credit', 10n),
        movement: { fromAccountId: COUNTERPARTY, toAccountId: ACCOUNT, amount: 10n, currency: 'EUR', requestedAt },
        reason,
      });
      const first = await handler.handle(STREAM, leg('2025-03-01T10:00:00.000Z', 'first try'), contextFor('leg'));

      const again = await handler.handle(STREAM, leg('2025-03-01T10:05:00.000Z', 'second try'), contextFor('leg'));

      expect(again).to.deep.include({ appended: 0, replayed: true, revision: first.revision, position: first.position });
    });

    it('records a digest of what the command asked in its events; by default what a run stamps on it is left out', async () => {
      const handler = createAccountCommandHandler(temp.store);
      await open(handler);
      await post(handler, 'credit', 10n, 'credit-once');

      const [, credit] = await readEvents(temp.store);

      expect(credit!.recorded.metadata).to.include({ commandId: 'credit-once', commandDigest: commandDigestOf(posting('credit', 10n)) });
      expect(credit!.event.metadata).to.include({ commandDigest: commandDigestOf(posting('credit', 10n)) });
      expect(commandDigestOf({ a: 1n, b: 'x' })).to.equal(commandDigestOf({ b: 'x', a: 1n, c: undefined }));
      expect(commandDigestOf({ a: 1n })).to.not.equal(commandDigestOf({ a: 2n }));
      const stamped = (at: string, callbackEventId: string) => ({ type: 'StartSettlement', fee: 5n, at, callbackEventId });
      const digestOf = (command: object) => commandDigestOf(withoutRunStamps(command));
      expect(digestOf(stamped('2025-03-01T10:00:00.000Z', 'evt_1'))).to.equal(digestOf(stamped('2025-03-01T10:05:00.000Z', 'evt_2')));
      expect(digestOf({ ...stamped('2025-03-01T10:00:00.000Z', 'evt_1'), fee: 6n })).to.not.equal(digestOf(stamped('2025-03-01T10:00:00.000Z', 'evt_1')));
    });

    it('replays by id alone a command whose events were written before digests were recorded', async () => {
      const earlier = accountHandlerWith(temp.store, { codec: codecWithoutDigests() });
      await open(earlier);
      const first = await post(earlier, 'credit', 10n, 'credit-once');
      expect((await readEvents(temp.store))[1]!.recorded.metadata).to.not.have.property('commandDigest');

      const replay = await post(createAccountCommandHandler(temp.openAnother()), 'credit', 10n, 'credit-once');

      expect(replay).to.deep.include({ appended: 0, replayed: true, revision: first.revision, position: first.position });
    });

    it('is answered as 409 problem+json with a stable type and the command id', () => {
      const problem = toProblem(new CommandIdReusedError(STREAM, 'credit-once'), '/v1/transfers');

      expect(problem).to.include({ type: 'urn:folio:problem:command-id-reused', status: 409, commandId: 'credit-once', stream: STREAM });
      expect(problem.detail).to.match(/already applied .* with other content/);
    });
  });

  describe('a retry from beyond the recent commands', () => {
    const WINDOW = 4;

    /** Credits the command `commandId`, then more commands than the window holds; where it started. */
    const creditThenMore = async (handler: AccountCommandHandler, commandId: string) => {
      await open(handler);
      const since = (await temp.store.headPosition())!;
      const first = await post(handler, 'credit', 10n, commandId);
      for (let index = 0; index < WINDOW + 2; index++) await post(handler, 'credit', 1n, `later-${index}`);
      return { since, first };
    };

    it('is found in the log when it says since when it may have been applied, in this process and after a restart', async () => {
      const handler = accountHandlerWith(temp.store, { dedupeWindow: WINDOW });
      const { since, first } = await creditThenMore(handler, 'leg');
      const head = await temp.store.headPosition();

      const again = await post(handler, 'credit', 10n, 'leg', { handle: { retrySince: since } });
      const restarted = accountHandlerWith(temp.openAnother(), { dedupeWindow: WINDOW });
      const afterRestart = await post(restarted, 'credit', 10n, 'leg', { handle: { retrySince: since } });

      for (const result of [again, afterRestart]) {
        expect(result).to.deep.include({ appended: 0, replayed: true, revision: first.revision, position: first.position });
      }
      expect(await temp.store.headPosition()).to.equal(head);
      expect(postedBalance(openAccount((await restarted.load(STREAM)).state))).to.equal(10n + BigInt(WINDOW + 2));
    });

    it('is refused when the log holds another command under its id', async () => {
      const handler = accountHandlerWith(temp.store, { dedupeWindow: WINDOW });
      const { since } = await creditThenMore(handler, 'leg');
      const head = await temp.store.headPosition();

      const error = await rejectionOf(post(handler, 'credit', 11n, 'leg', { handle: { retrySince: since } }));

      expect(error).to.be.instanceOf(CommandIdReusedError);
      expect(await temp.store.headPosition()).to.equal(head);
    });

    it('is decided when the log does not hold it since then, and reads the log only as far back as that', async () => {
      const handler = accountHandlerWith(temp.store, { dedupeWindow: WINDOW });
      await creditThenMore(handler, 'other');
      const since = (await temp.store.headPosition())!;
      for (let index = 0; index < WINDOW + 2; index++) await post(handler, 'credit', 1n, `even-later-${index}`);
      let oldestRead: bigint | undefined;
      const watched = new Proxy(temp.store, {
        get(target, property) {
          if (property !== 'readStream') return Reflect.get(target, property, target) as unknown;
          return (...args: Parameters<EventStore['readStream']>) =>
            (async function* () {
              for await (const recorded of target.readStream(...args)) {
                if (oldestRead === undefined || recorded.position < oldestRead) oldestRead = recorded.position;
                yield recorded;
              }
            })();
        },
      });
      const cached = accountHandlerWith(watched, { dedupeWindow: WINDOW });
      await cached.load(STREAM);
      oldestRead = undefined;

      const result = await post(cached, 'credit', 10n, 'new-leg', { handle: { retrySince: since } });

      expect(result).to.deep.include({ appended: 1, replayed: false });
      expect(oldestRead! <= since, 'read back to where the command may have started').to.equal(true);
      const events = await readEvents(temp.store);
      expect(events.filter(({ recorded }) => recorded.position < oldestRead!)).to.have.length.greaterThan(WINDOW);
    });
  });
});
