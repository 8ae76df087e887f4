import { hasSoleWriter, ledgerCatalog, type EventStore } from '@folio/shared';
import { catalogCodec } from '../commandHandling/catalogCodec.js';
import { createCommandHandler, type CommandHandler } from '../commandHandling/commandHandler.js';
import type { EventPayload } from '../commandHandling/decider.js';
import { accountDecider, type AccountCommand } from './accountDecider.js';
import type { AccountEvent, AccountState } from './accountState.js';

export type AccountCommandHandler = CommandHandler<AccountState, AccountCommand>;

/** The events of an account's stream. */
export const accountEventTypes: AccountEvent['type'][] = [
  'AccountOpened',
  'AccountFrozen',
  'AccountUnfrozen',
  'AccountClosed',
  'AccountDebited',
  'AccountCredited',
  'AccountFundsHeld',
  'AccountHoldReleased',
];

/**
 * What an account command asks. A posting is its money: a leg run again carries the movement as
 * that run rebuilt it (a new request time) and a refusal's wording of the moment, and posts the same.
 * A hold's release is the hold: a payout's failure is released by whichever run gets there first,
 * each in the words of the failure it saw (the provider's answer, its deadline), and the others
 * find it released.
 */
export const accountCommandIdentity = (command: AccountCommand): unknown => {
  switch (command.type) {
    case 'PostDebit':
    case 'PostCredit': {
      const { movement: _movement, reason: _reason, ...money } = command;
      return money;
    }
    case 'ReleaseHold': {
      const { reason: _reason, ...hold } = command;
      return hold;
    }
    default:
      return command;
  }
};

/** System accounts' postings skip the revision check only where this process is the sole writer. */
export const createAccountCommandHandler = (eventStore: EventStore): AccountCommandHandler =>
  createCommandHandler({
    eventStore,
    codec: catalogCodec<EventPayload<AccountEvent>>(ledgerCatalog, accountEventTypes),
    decider: accountDecider,
    commandIdentity: accountCommandIdentity,
    soleWriter: hasSoleWriter(eventStore),
  });

