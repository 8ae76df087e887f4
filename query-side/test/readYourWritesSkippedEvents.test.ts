import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { openSqliteEventStore, type GlobalPosition, type SqliteEventStore } from '@folio/shared';
import type { ProjectorStatus } from '@folio/projections';
import {
  PositionNotWrittenError,
  ReadModelBehindError,
  waitForPosition,
  waitForPositionWithFollowers,
  type LogFollower,
  type ReadModelProgress,
} from '../src/readYourWrites.js';

/**
 * Read models whose positions stay where they are, as at an idle EventStoreDB head: a filtered
 * subscription there reports neither the events it skips nor how far it has scanned.
 */
const stalledAt = (positions: Record<string, GlobalPosition>): ReadModelProgress => {
  const status = (): ProjectorStatus[] =>
    Object.entries(positions).map(([name, position]) => ({
      name,
      position,
      caughtUp: true,
      lastEventAt: undefined,
      filter: { streamNamePrefixes: [`${name}-`] },
    }));
  return {
    status,
    waitFor: async (target, timeoutMs) => {
      if (status().every(({ position }) => position !== undefined && position >= target)) return true;
      await new Promise((resolve) => setTimeout(resolve, timeoutMs));
      return false;
    },
  };
};

/**
 * `stalledAt`, but a read model moves on when the test says: it takes an event, then stalls again.
 * Each takes the events of streams named after it, unless `prefixes` says otherwise.
 */
const movingAt = (positions: Record<string, GlobalPosition>, prefixes: Record<string, string> = {}) => {
  const waiting = new Set<() => void>();
  const status = (): ProjectorStatus[] =>
    Object.entries(positions).map(([name, position]) => ({
      name,
      position,
      caughtUp: true,
      lastEventAt: undefined,
      filter: { streamNamePrefixes: [prefixes[name] ?? `${name}-`] },
    }));
  const progress: ReadModelProgress = {
    status,
    waitFor: (target, timeoutMs, names) =>
      new Promise((resolve) => {
        const reached = () => {
          const named = status().filter(({ name }) => names === undefined || names.includes(name));
          if (!named.every(({ position }) => position !== undefined && position >= target)) return;
          waiting.delete(reached);
          resolve(true);
        };
        waiting.add(reached);
        reached();
        setTimeout(() => {
          if (waiting.delete(reached)) resolve(false);
        }, timeoutMs);
      }),
  };
  const moveTo = (name: string, to: GlobalPosition) => {
    positions[name] = to;
    for (const reached of [...waiting]) reached();
  };
  return { progress, moveTo };
};

/** The accounts of each holder, following the log: they stay where the test puts them, as at an idle EventStoreDB head. */
const holderAccountsAt = (start: GlobalPosition) => {
  const { progress, moveTo } = movingAt({ 'holder-accounts': start }, { 'holder-accounts': 'account-' });
  const follower: LogFollower = {
    status: () => progress.status()[0]!,
    waitFor: (target, timeoutMs) => progress.waitFor(target, timeoutMs),
  };
  return { follower, moveTo: (to: GlobalPosition) => moveTo('holder-accounts', to) };
};

describe('read-your-writes past events the read models skip', () => {
  let log: SqliteEventStore;
  const append = async (stream: string) =>
    (await log.appendToStream(stream, [{ id: randomUUID(), type: 'Noted', data: {} }])).position;

  beforeEach(() => {
    log = openSqliteEventStore({ path: join(mkdtempSync(join(tmpdir(), 'folio-skipped-')), 'events.sqlite') });
  });
  afterEach(() => log.close());

  it('answers at once for a position past only events every read model skips', async () => {
    const balances = await append('balances-1');
    const history = await append('history-1');
    await append('device-1');
    const device = await append('device-2');
    const started = Date.now();
    await waitForPosition(stalledAt({ balances, history }), device, 1_000, { log });
    expect(Date.now() - started).to.be.below(500);
  });

  it('waits out the bound when an event a read model takes lies before the position', async () => {
    const balances = await append('balances-1');
    const history = await append('history-1');
    await append('balances-2');
    const device = await append('device-1');
    const wait = waitForPosition(stalledAt({ balances, history }), device, 300, { log });
    const error = await wait.then(() => undefined, (caught: unknown) => caught);
    expect(error).to.be.instanceOf(ReadModelBehindError);
  });

  it('answers once the read model with an event ahead takes it, though another stays short of the position past events it skips', async () => {
    const balances = await append('balances-1');
    const history = await append('history-1');
    const transfer = await append('history-2');
    const device = await append('device-1');
    const { progress, moveTo } = movingAt({ balances, history });
    const started = Date.now();
    setTimeout(() => moveTo('history', transfer), 100);
    await waitForPosition(progress, device, 10_000, { log });
    expect(Date.now() - started, 'answered once history took its event, not at the bound').to.be.below(5_000);
  });

  it('never takes a position beyond the head of the log as reflected: once the bound is over, it is refused as never written', async () => {
    const balances = await append('balances-1');
    const history = await append('history-1');
    const started = Date.now();
    const error = await waitForPosition(stalledAt({ balances, history }), history + 1_000n, 300, { log }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(Date.now() - started, 'waited the bound first').to.be.at.least(290);
    expect(error).to.be.instanceOf(PositionNotWrittenError);
    expect((error as PositionNotWrittenError).status).to.equal(400);
    expect((error as PositionNotWrittenError).issues).to.deep.equal([
      { path: 'query.position', message: `beyond the head of the log (${history}): no write answered with it` },
    ]);
  });

  it('answers at once for a position past only events the holder accounts skip', async () => {
    const account = await append('account-1');
    const transfer = await append('history-1');
    const { follower } = holderAccountsAt(account);
    const started = Date.now();
    await waitForPositionWithFollowers(stalledAt({ history: transfer }), transfer, 1_000, { log, followers: [follower] });
    expect(Date.now() - started).to.be.below(500);
  });

  it('waits for the holder accounts to take an account opened before the position, then answers though they stay short of it', async () => {
    const known = await append('account-1');
    const opened = await append('account-2');
    const deposit = await append('history-1');
    const { follower, moveTo } = holderAccountsAt(known);
    let answered = false;
    const wait = waitForPositionWithFollowers(stalledAt({ history: deposit }), deposit, 10_000, { log, followers: [follower] }).then(() => {
      answered = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(answered, 'not before the account is known').to.equal(false);
    moveTo(opened);
    await wait;
  });

  it('says read-model-behind naming the holder accounts when they do not take that account within the bound', async () => {
    const known = await append('account-1');
    await append('account-2');
    const deposit = await append('history-1');
    const { follower } = holderAccountsAt(known);
    const error = await waitForPositionWithFollowers(stalledAt({ history: deposit }), deposit, 300, { log, followers: [follower] }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).to.be.instanceOf(ReadModelBehindError);
    expect((error as ReadModelBehindError).problemExtensions().projections).to.deep.equal([
      { name: 'history', position: deposit.toString(), caughtUp: true },
      { name: 'holder-accounts', position: known.toString(), caughtUp: true },
    ]);
  });
});
