import { accountStream, StreamNotFoundError, type EventStore } from '@folio/shared';

const PLACEMENT_PREFIX = 'hold-';

/** A payout's hold is placed as `hold-<payoutId>`, or, by a retried request, once per attempt. */
export const holdPlacementCommandId = (payoutId: string, attempt?: string): string =>
  attempt === undefined ? `${PLACEMENT_PREFIX}${payoutId}` : `${PLACEMENT_PREFIX}${payoutId}-${attempt}`;

/**
 * The command releasing the hold open on the account under `holdId`, named after the placement it
 * releases; undefined once none is open. A retry may hold a payout's amount again after a restart
 * released the first hold: named after the payout alone, that hold's release would be taken for a
 * repeat of the first one's and do nothing. Every run releasing one placement names it alike, so
 * it is released once, and the first placement's release keeps the name it always had
 * (`release-<payoutId>`), so a release recorded before is recognised.
 */
export const openHoldReleaseCommandId = async (
  eventStore: EventStore,
  accountId: string,
  holdId: string,
): Promise<string | undefined> => {
  try {
    for await (const recorded of eventStore.readStream(accountStream(accountId), { direction: 'backwards' })) {
      if (recorded.type !== 'AccountFundsHeld' && recorded.type !== 'AccountHoldReleased') continue;
      if ((recorded.data as { holdId?: unknown }).holdId !== holdId) continue;
      if (recorded.type === 'AccountHoldReleased') return undefined;
      const placement = recorded.metadata?.commandId;
      return typeof placement === 'string' && placement.startsWith(PLACEMENT_PREFIX)
        ? `release-${placement.slice(PLACEMENT_PREFIX.length)}`
        : `release-${holdId}-${recorded.id}`;
    }
  } catch (error) {
    if (!(error instanceof StreamNotFoundError)) throw error;
  }
  return undefined;
};
