import { discrepancyDecider, type DiscrepancyEvent } from '../../src/reconciliation/discrepancyDecider.js';
import { DiscrepancyAlreadyResolvedError, DiscrepancyBeingResolvedError } from '../../src/reconciliation/discrepancyErrors.js';
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
});
