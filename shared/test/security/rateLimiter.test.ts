import { expect } from 'chai';
import { createInMemoryRateLimiter, createInMemoryReplayGuard } from '../../src/security/index.js';

describe('token buckets', () => {
  it('allow a burst, then refill at the rate, and say when to retry', () => {
    let now = 0;
    const limiter = createInMemoryRateLimiter(() => now);
    const rule = { perSecond: 2, burst: 3 };
    expect([1, 2, 3, 4].map(() => limiter.take('k', rule).allowed)).to.deep.equal([true, true, true, false]);
    expect(limiter.take('k', rule)).to.deep.equal({ allowed: false, retryAfterSeconds: 1 });
    now += 500;
    expect(limiter.take('k', rule).allowed).to.equal(true);
    expect(limiter.take('k', rule).allowed).to.equal(false);
    expect(limiter.take('other', rule).allowed, 'buckets are per key').to.equal(true);
  });

  it('peek without spending, and never refill past the burst', () => {
    let now = 0;
    const limiter = createInMemoryRateLimiter(() => now);
    const rule = { perSecond: 1 / 60, burst: 1 };
    expect(limiter.peek('ip', rule).allowed).to.equal(true);
    expect(limiter.take('ip', rule).allowed).to.equal(true);
    expect(limiter.peek('ip', rule)).to.deep.equal({ allowed: false, retryAfterSeconds: 60 });
    now += 3_600_000;
    expect(limiter.take('ip', rule).allowed).to.equal(true);
    expect(limiter.take('ip', rule).allowed).to.equal(false);
  });

  it('forget an idle bucket only once it has refilled: a slow one is not full again after ten minutes', () => {
    let now = 0;
    const limiter = createInMemoryRateLimiter(() => now);
    // FOLIO_RATE_FAILURES_PER_MINUTE=1, FOLIO_RATE_FAILURES_BURST=20: emptied, it takes twenty minutes to refill.
    const rule = { perSecond: 1 / 60, burst: 20 };
    for (let failure = 0; failure < 20; failure++) limiter.take('failures:198.51.100.7', rule);
    expect(limiter.peek('failures:198.51.100.7', rule).allowed).to.equal(false);
    now += 11 * 60_000;
    const taken = Array.from({ length: 20 }, () => limiter.take('failures:198.51.100.7', rule).allowed).filter(Boolean);
    expect(taken, 'eleven minutes refill eleven tokens').to.have.length(11);
  });
});

describe('replay guard', () => {
  it('lets each signature through once until it expires', () => {
    let now = 1000;
    const guard = createInMemoryReplayGuard(() => now);
    const sig = Buffer.alloc(64, 1);
    expect(guard.claim(sig, 5000)).to.equal(true);
    expect(guard.claim(sig, 5000)).to.equal(false);
    expect(guard.claim(Buffer.alloc(64, 2), 5000)).to.equal(true);
    now = 20_000;
    // Past its window, the timestamp check refuses it anyway; the memory may forget it.
    expect(guard.claim(sig, 30_000)).to.equal(true);
  });

  it('knows a signature by its bytes, however the header spelt them', () => {
    const guard = createInMemoryReplayGuard(() => 0);
    const signature = Buffer.alloc(64, 0xab);
    const spelling = signature.toString('base64url');
    // The last character's 4 low bits are unused: another character there decodes to the same bytes.
    const respelt = `${spelling.slice(0, -1)}${spelling.at(-1) === 'w' ? 'x' : 'w'}`;
    expect(Buffer.from(respelt, 'base64url').equals(signature)).to.equal(true);
    expect(guard.claim(Buffer.from(spelling, 'base64url'), 5000)).to.equal(true);
    expect(guard.claim(Buffer.from(respelt, 'base64url'), 5000)).to.equal(false);
  });
});
