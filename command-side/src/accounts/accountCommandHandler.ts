import { hasSoleWriter, ledgerCatalog, type EventStore } from '@folio/shared';
import { catalogCodec } from '../commandHandling/catalogCodec.js';
import { createCommandHandler, type CommandHandler } from '../commandHandling/commandHandler.js';
import type { EventPayload } from '../commandHandling/decider.js';
import { accountDecider, type AccountCommand } from './accountDecider.js';
import type { AccountEvent, AccountState } from './accountState.js';

export type AccountCommandHandler = CommandHandler<AccountState, AccountCommand>;

const accountEventTypes: AccountEvent['type'][] = [
  'AccountOpened',
  'AccountFrozen',
  'AccountUnfrozen',
  'AccountClosed',
  'AccountDebited',
  'AccountCredited',
  'AccountFundsHeld',
  'AccountHoldReleased',
];

/** System accounts' postings skip the revision check only where this process is the sole writer. */
export const createAccountCommandHandler = (eventStore: EventStore): AccountCommandHandler =>
  createCommandHandler({
    eventStore,
    codec: catalogCodec<EventPayload<AccountEvent>>(ledgerCatalog, accountEventTypes),
    decider: accountDecider,
    soleWriter: hasSoleWriter(eventStore),
  });

