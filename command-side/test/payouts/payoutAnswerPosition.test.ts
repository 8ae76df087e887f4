/**
 * A payout request answers the global position of its last event, so that a reader passing it
 * sees everything the request did: for a payout that failed at once, the release of its hold,
 * which is recorded after its failure.
 */
import { expect } from 'chai';
import { createApiHarness, readAllEvents, uniqueKey, type ApiHarness } from '../api/apiHarness.js';
import { quietSandbox, requestPayout } from '../payments/paymentTestSupport.js';

describe('the position a payout request answers', () => {
  let harness: ApiHarness;

  beforeEach(async () => {
    harness = await createApiHarness({
      ...quietSandbox,
      sandboxFaults: { ...quietSandbox.sandboxFaults, submitErrorRate: 1 },
      payoutTimeoutMs: 60_000,
    });
  });
  afterEach(() => harness.close());

  it('covers the release of the hold of a payout the provider refused', async () => {
    const account = await harness.api.openFundedAccount('10000', { kind: 'merchant' });

    const answered = await requestPayout(harness.api, account, uniqueKey('payout'));

    expect(answered.status, answered.text).to.equal(201);
    expect(answered.body.state).to.equal('FAILED');
    const released = (await readAllEvents(harness.store)).filter(
      (event) => event.type === 'AccountHoldReleased' && (event.data as { holdId?: string }).holdId === answered.body.id,
    );
    expect(released).to.have.length(1);
    expect(BigInt(answered.body.position) >= released[0]!.position, 'a reader at the answered position sees the hold released').to.equal(
      true,
    );
  });
});
