import { expect } from 'chai';
import { discrepancyDecider, resolutionRefusal, type DiscrepancyEvent } from '../../src/reconciliation/discrepancyDecider.js';
import { CorrectingJournalFailedError, DiscrepancyAlreadyResolvedError, DiscrepancyBeingResolvedError } from '../../src/reconciliation/discrepancyErrors.js';
import { deciderSpec } from '../deciderSpecification.js';

const id = 'a'.repeat(32);
const at = '2026-06-01T10:00:00.000Z';
const why = { discrepancyId: id, by: 'ops-1', reason: 'looked at it', at };
const acknowledged: DiscrepancyEvent = { type: 'DiscrepancyAcknowledged', data: { discrepancyId: id, by: 'ops-1', reason: 'seen', acknowledgedAt: at } };
const resolved: DiscrepancyEvent = {
  type: 'DiscrepancyResolved',
  data: { discrepancyId: id, resolution: 'suspense', journalId: '4194304', by: 'ops-2', reason: 'booked to suspense', resolvedAt: at },
};

describe('discrepancy workflow decider', () => {
  const spec = deciderSpec(discrepancyDecider);

  it('acknowledges once, with who and why', () => {
    spec.given([]).when({ type: 'acknowledge', ...why }).then([
      { type: 'DiscrepancyAcknowledged', data: { discrepancyId: id, by: 'ops-1', reason: 'looked at it', acknowledgedAt: at } },
    ]);
    spec.given([acknowledged]).when({ type: 'acknowledge', ...why }).thenNothing();
  });

  it('assigns, and reassigns to someone else', () => {
    const assigned: DiscrepancyEvent = { type: 'DiscrepancyAssigned', data: { discrepancyId: id, assignee: 'alice', by: 'ops-1', reason: 'r', assignedAt: at } };
    spec.given([acknowledged]).when({ type: 'assign', assignee: 'alice', ...why }).then([
      { type: 'DiscrepancyAssigned', data: { discrepancyId: id, assignee: 'alice', by: 'ops-1', reason: 'looked at it', assignedAt: at } },
    ]);
    spec.given([assigned]).when({ type: 'assign', assignee: 'alice', ...why }).thenNothing();
    spec.given([assigned]).when({ type: 'assign', assignee: 'bob', ...why }).then([
      { type: 'DiscrepancyAssigned', data: { discrepancyId: id, assignee: 'bob', by: 'ops-1', reason: 'looked at it', assignedAt: at } },
    ]);
  });

  it('resolves with the correcting journal, and then takes no further step', () => {
    spec.given([acknowledged]).when({ type: 'resolve', resolution: 'suspense', journalId: '4194304', ...why }).then([
      { type: 'DiscrepancyResolved', data: { discrepancyId: id, resolution: 'suspense', journalId: '4194304', by: 'ops-1', reason: 'looked at it', resolvedAt: at } },
    ]);
    for (const command of [{ type: 'acknowledge' as const, ...why }, { type: 'resolve' as const, resolution: 'no_action' as const, ...why }])
      spec.given([resolved]).when(command).thenThrows(DiscrepancyAlreadyResolvedError, {
        type: 'discrepancy-already-resolved',
        status: 409,
        message: /is resolved \(suspense\)/,
      });
  });

  it('claims a resolution that moves money once: only its own journal can then record it', () => {
    const correction = { amount: 777n, currency: 'EUR' as const, provider: 'sandbox' as const };
    const start = (journalId: string) => ({ type: 'start-resolution' as const, resolution: 'suspense' as const, journalId, correction, ...why });
    const started: DiscrepancyEvent = {
      type: 'DiscrepancyResolutionStarted',
      data: { discrepancyId: id, resolution: 'suspense', journalId: '4194304', correction, by: 'ops-1', reason: 'looked at it', startedAt: at },
    };
    spec.given([acknowledged]).when(start('4194304')).then([started]);
    // The same request again (its idempotency key retried): nothing new.
    spec.given([started]).when(start('4194304')).thenNothing();
    spec.given([started]).when({ type: 'resolve', resolution: 'suspense', journalId: '4194304', ...why }).then([
      { type: 'DiscrepancyResolved', data: { discrepancyId: id, resolution: 'suspense', journalId: '4194304', by: 'ops-1', reason: 'looked at it', resolvedAt: at } },
    ]);
    for (const command of [start('8388608'), { type: 'resolve' as const, resolution: 'no_action' as const, ...why }, { type: 'resolve' as const, resolution: 'suspense' as const, journalId: '8388608', ...why }])
      spec.given([started]).when(command).thenThrows(DiscrepancyBeingResolvedError, {
        type: 'discrepancy-being-resolved',
        status: 409,
        message: /is being resolved \(suspense, correcting journal 4194304\)/,
      });
    spec.given([started]).when({ type: 'assign', assignee: 'alice', ...why }).then([
      { type: 'DiscrepancyAssigned', data: { discrepancyId: id, assignee: 'alice', by: 'ops-1', reason: 'looked at it', assignedAt: at } },
    ]);
  });

  describe('a correcting journal that did not post', () => {
    const correction = { amount: 777n, currency: 'EUR' as const, provider: 'sandbox' as const };
    const failure = { type: 'balance-out-of-range', detail: 'the posting would take the account beyond its bound' };
    const startedBy = (journalId: string): DiscrepancyEvent => ({
      type: 'DiscrepancyResolutionStarted',
      data: { discrepancyId: id, resolution: 'suspense', journalId, correction, by: 'ops-1', reason: 'looked at it', startedAt: at },
    });
    const failedFor = (journalId: string): DiscrepancyEvent => ({
      type: 'DiscrepancyResolutionFailed',
      data: { discrepancyId: id, journalId, failure, by: 'ops-1', reason: 'looked at it', failedAt: at },
    });
    const fail = (journalId: string) => ({ type: 'fail-resolution' as const, journalId, failure, ...why });

    it('releases its claim, with why, and the discrepancy can then be resolved another way', () => {
      spec.given([startedBy('4194304')]).when(fail('4194304')).then([failedFor('4194304')]);
      const released = [startedBy('4194304'), failedFor('4194304')];
      spec.given(released).when({ type: 'resolve', resolution: 'no_action', ...why }).then([
        { type: 'DiscrepancyResolved', data: { discrepancyId: id, resolution: 'no_action', by: 'ops-1', reason: 'looked at it', resolvedAt: at } },
      ]);
      spec.given(released).when({ type: 'start-resolution', resolution: 'write_off', journalId: '8388608', correction, ...why }).then([
        {
          type: 'DiscrepancyResolutionStarted',
          data: { discrepancyId: id, resolution: 'write_off', journalId: '8388608', correction, by: 'ops-1', reason: 'looked at it', startedAt: at },
        },
      ]);
    });

    it('releases no claim it does not hold: one released already, another journal\'s, or none on a resolved case', () => {
      spec.given([startedBy('4194304'), failedFor('4194304')]).when(fail('4194304')).thenNothing();
      spec.given([startedBy('4194304'), failedFor('4194304'), startedBy('8388608')]).when(fail('4194304')).thenNothing();
      spec.given([resolved]).when(fail('4194304')).thenNothing();
    });

    it('refuses its request when retried, with the same failure, before any money moves', () => {
      const state = [startedBy('4194304'), failedFor('4194304'), resolved].reduce(discrepancyDecider.evolve, discrepancyDecider.initialState());
      const refusal = resolutionRefusal(state, id, '4194304', { retry: true });
      expect(refusal).to.be.instanceOf(CorrectingJournalFailedError);
      expect({ type: refusal!.type, status: refusal!.status, ...refusal!.problemExtensions() }).to.deep.equal({
        type: 'correcting-journal-failed',
        status: 422,
        journalId: '4194304',
        failureReason: failure,
      });
      expect(resolutionRefusal(state, id, '8388608', { retry: false })).to.be.instanceOf(DiscrepancyAlreadyResolvedError);
    });
  });

  it('refuses a resolution before any money moves while another journal holds the claim or once resolved, unless by its own journal retried', () => {
    const correction = { amount: 777n, currency: 'EUR' as const, provider: 'sandbox' as const };
    const started: DiscrepancyEvent = {
      type: 'DiscrepancyResolutionStarted',
      data: { discrepancyId: id, resolution: 'suspense', journalId: '4194304', correction, by: 'ops-1', reason: 'looked at it', startedAt: at },
    };
    const stateOf = (events: DiscrepancyEvent[]) => events.reduce(discrepancyDecider.evolve, discrepancyDecider.initialState());
    expect(resolutionRefusal(stateOf([acknowledged]), id, '4194304', { retry: false })).to.equal(undefined);
    expect(resolutionRefusal(stateOf([started]), id, '4194304', { retry: true })).to.equal(undefined);
    expect(resolutionRefusal(stateOf([started]), id, '8388608', { retry: false })).to.be.instanceOf(DiscrepancyBeingResolvedError);
    expect(resolutionRefusal(stateOf([started, resolved]), id, '4194304', { retry: true })).to.equal(undefined);
    expect(resolutionRefusal(stateOf([started, resolved]), id, '4194304', { retry: false })).to.be.instanceOf(DiscrepancyAlreadyResolvedError);
  });
});
