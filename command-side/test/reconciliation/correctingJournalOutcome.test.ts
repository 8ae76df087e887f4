import { discrepancyDecider, type DiscrepancyEvent } from '../../src/reconciliation/discrepancyDecider.js';
import { CorrectingJournalFailedError } from '../../src/reconciliation/discrepancyErrors.js';
import { deciderSpec } from '../deciderSpecification.js';

const id = 'a'.repeat(32);
const at = '2026-06-01T10:00:00.000Z';
const why = { discrepancyId: id, by: 'ops-1', reason: 'looked at it', at };
const correction = { amount: 777n, currency: 'EUR' as const, provider: 'sandbox' as const };
const failure = { type: 'balance-out-of-range', detail: 'the posting would take the account beyond its bound' };
const started: DiscrepancyEvent = {
  type: 'DiscrepancyResolutionStarted',
  data: { discrepancyId: id, resolution: 'suspense', journalId: '4194304', correction, by: 'ops-1', reason: 'looked at it', startedAt: at },
};
const failed: DiscrepancyEvent = {
  type: 'DiscrepancyResolutionFailed',
  data: { discrepancyId: id, journalId: '4194304', failure, by: 'ops-1', reason: 'looked at it', failedAt: at },
};
const resolvedByIt: DiscrepancyEvent = {
  type: 'DiscrepancyResolved',
  data: { discrepancyId: id, resolution: 'suspense', journalId: '4194304', by: 'ops-1', reason: 'looked at it', resolvedAt: at },
};

describe('discrepancy decider: a correcting journal has one outcome, the first recorded', () => {
  const spec = deciderSpec(discrepancyDecider);

  it('records no failure of a journal the case is resolved by: the resolution stands', () => {
    spec.given([started, resolvedByIt]).when({ type: 'fail-resolution', journalId: '4194304', failure, ...why }).thenNothing();
  });

  it('refuses to resolve by a journal whose failure released its claim', () => {
    spec.given([started, failed]).when({ type: 'resolve', resolution: 'suspense', journalId: '4194304', ...why }).thenThrows(CorrectingJournalFailedError, {
      type: 'correcting-journal-failed',
      status: 422,
      extensions: { journalId: '4194304', failureReason: failure },
    });
  });

});
