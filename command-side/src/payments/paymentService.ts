import {
  accountStream,
  formatMinorUnits,
  journalStream,
  paymentStream,
  systemAccountId,
  type CurrencyCode,
  type GlobalPosition,
  type Movement,
  type PaymentProvider,
  type ProviderJournalKind,
  type SnowflakeGenerator,
  WrongExpectedRevisionError,
} from '@folio/shared';
import { accountDecider, type AccountCommand } from '../accounts/accountDecider.js';
import { AccountNotFoundError } from '../accounts/accountErrors.js';
import type { AccountCommandHandler } from '../accounts/accountCommandHandler.js';
import type { AccountStatus } from '../accounts/accountState.js';
import type { CommandContext } from '../commandHandling/decider.js';
import { createKeyedLock } from '../concurrency/keyedLock.js';
import { ensureClaimLeaseHeld } from '../idempotency/claimLease.js';
import { providerJournalPlan } from '../movements/movement.js';
import { isRefusal, type MovementAttempt, type MovementProcess, type RunContext } from '../movements/movementProcess.js';
import type { ProviderPayment } from '../providers/providerAdapter.js';
import {
  ProviderDeclinedError,
  ProviderRefusedError,
  providerRequestError,
  ProviderUnavailableError,
} from '../providers/providerErrors.js';
import type { ProviderReferences } from '../providers/providerReferences.js';
import type { ProviderRegistry } from '../providers/providerRegistry.js';
import type { PaymentCommandHandler } from './paymentCommandHandler.js';
import {
  awaitsEffect,
  callbackRank,
  classifyCallback,
  heldBack,
  judgeCallback,
  paymentDecider,
  type PaymentCommand,
} from './paymentDecider.js';
import {
  IllegalPaymentTransitionError,
  NotAMerchantAccountError,
  PaymentJournalRefusedError,
  PaymentJournalWaitingError,
  PaymentNotFoundError,
  ProviderReferenceMismatchError,
  ProviderReferenceTakenError,
  ProviderReferenceUnknownError,
} from './paymentErrors.js';
import { refundSource, suspensePartOf, type ExistingPayment, type PaymentCallback, type RefundInFlight } from './paymentState.js';
import { paymentView, type PaymentView } from './paymentView.js';
import { REFUND_RECOVERY_ACTOR } from './refundRecovery.js';

export interface PaymentServiceDependencies {
  payments: PaymentCommandHandler;
  accounts: AccountCommandHandler;
  movements: MovementProcess;
  references: ProviderReferences;
  providers: ProviderRegistry;
  ids: SnowflakeGenerator;
  clock: () => Date;
}

export interface CreatePaymentRequest {
  merchantAccountId: string;
  amount: bigint;
  currency: CurrencyCode;
  provider: PaymentProvider;
  description?: string;
  customerRef?: string;
}

/**
 * What a move comes from: the provider's report of it (`callbackEventId`: it happened there), or a
 * request, which starts it only within the lease of its idempotency claim (`claimValidUntil`).
 */
interface MoveOrigin {
  callbackEventId?: string;
  claimValidUntil?: Date;
}

/** The actor of what a read of a payment completes. */
const REPAIR_ACTOR = 'folio:payment-repair';

/** Ids a payment needs besides its own: `reserve(PAYMENT_ID_BLOCK)` gives the payment and its journals. */
export const PAYMENT_ID_BLOCK = 4;

/**
 * The payment lifecycle as a process. A move is checked against the payment's state, its money is
 * posted as a journal of its own (capture, settlement and fee, refund), then the move is recorded
 * on the payment's stream. Journals have ids fixed in advance (a capture's and a settlement's at
 * creation, a refund's when it is requested), so running a move again never posts twice, and a
 * move interrupted between its money and its record is completed the next time the payment is
 * touched: the journals in the log say what happened.
 *
 * The steps of one payment never interleave within this process (a keyed lock). Across processes
 * (several instances of the write API) the payment's stream decides: a capture, a settlement's fee
 * and a refund are recorded there before their journals are posted, so a failure cannot slip in
 * between a capture's money and its record, and every writer posts the money that was decided. A
 * refund Folio asks the provider for is reserved there before the provider is asked, so the
 * provider never pays back what the stream then refuses.
 */
export const createPaymentService = (deps: PaymentServiceDependencies) => {
  const { payments, accounts, movements, references, providers, ids, clock } = deps;
  const locked = createKeyedLock();

  const contextOf = (run: RunContext, commandId: string): CommandContext => ({
    commandId,
    correlationId: run.correlationId,
    actor: run.actor,
    now: clock(),
  });
  const now = () => clock().toISOString();

  const load = async (
    paymentId: string,
    fresh = false,
  ): Promise<{ payment: ExistingPayment; position: GlobalPosition | undefined }> => {
    const { state, position } = await payments.load(paymentStream(paymentId), { fresh });
    if (!state.exists) throw new PaymentNotFoundError(paymentId);
    return { payment: state, position };
  };

  const handle = (paymentId: string, command: PaymentCommand, run: RunContext, commandId: string) =>
    payments.handle(paymentStream(paymentId), command, contextOf(run, commandId));

  /**
   * Decides a step whose journals follow it on the stream as it is now, not as this process last
   * read it: decided on an older copy, another writer's same step would be appended again at the
   * revision known here, which the store takes for a retry and answers as new. `earlier`: another
   * writer decided it first (a replay, or nothing to write under another command id, a callback's),
   * and its run may have posted part of the journals, so their legs are looked up in the log.
   */
  const decideStep = async (paymentId: string, command: PaymentCommand, run: RunContext, commandId: string) => {
    await payments.load(paymentStream(paymentId), { fresh: true });
    const result = await handle(paymentId, command, run, commandId);
    return { ...result, earlier: result.replayed || result.appended === 0 };
  };

  /** Rejects a move the payment's state does not allow, before anything is posted. */
  const check = (payment: ExistingPayment, command: PaymentCommand): void => {
    paymentDecider.decide(command, payment);
  };

  const clearingOf = (payment: Pick<ExistingPayment, 'currency' | 'provider'>) =>
    systemAccountId({ role: 'provider_clearing', currency: payment.currency, provider: payment.provider });

  const suspenseOf = (payment: ExistingPayment) => systemAccountId({ role: 'suspense', currency: payment.currency });

  /** The account a refund's money goes back to the payer from. */
  const refundAccountOf = (payment: ExistingPayment, from: RefundInFlight['from']) =>
    from === 'clearing' ? clearingOf(payment) : systemAccountId({ role: 'bank', currency: payment.currency });

  /** Posts a journal of the payment; its description is the payment's unless the route gives one. */
  const runJournal = async (
    kind: ProviderJournalKind,
    journalId: string,
    payment: ExistingPayment,
    route: { from: string; to: string; amount: bigint; description?: string },
    run: RunContext,
    retry: boolean,
  ) => {
    const description = route.description ?? payment.description;
    const movement: Movement = {
      fromAccountId: route.from,
      toAccountId: route.to,
      amount: route.amount,
      currency: payment.currency,
      reference: `payment ${payment.paymentId} ${kind}`,
      ...(description === undefined ? {} : { description }),
      metadata: { paymentId: payment.paymentId, provider: payment.provider },
      requestedAt: now(),
    };
    const outcome = await movements.run(providerJournalPlan(kind, journalId, movement), run, { retry });
    if (outcome.status === 'failed') {
      throw new PaymentJournalRefusedError(
        outcome.failure?.type ?? 'refused',
        outcome.failure?.detail ?? `the ${kind} was refused`,
      );
    }
  };

  const bookCaptureToSuspense = (payment: ExistingPayment, refusal: string, run: RunContext, callbackEventId?: string) =>
    handle(
      payment.paymentId,
      { type: 'BookCaptureToSuspense', refusal, at: now(), ...cause(callbackEventId) },
      run,
      `capture-suspense-${payment.paymentId}`,
    );

  /** Why the merchant's account would refuse `command` now, decided on its latest state with nothing written. */
  const merchantRefusal = async (payment: ExistingPayment, command: AccountCommand): Promise<string | undefined> => {
    const { state: merchant } = await accounts.load(accountStream(payment.merchantAccountId), { fresh: true });
    try {
      accountDecider.decide(command, merchant);
      return undefined;
    } catch (error) {
      if (!isRefusal(error)) throw error;
      return `${error.type}: ${error.message}`;
    }
  };

  /** The first leg of the capture's journal: the merchant credited. */
  const captureCredit = (
    payment: Pick<ExistingPayment, 'merchantAccountId' | 'captureJournalId' | 'amount' | 'currency' | 'provider'>,
  ): AccountCommand => ({
    type: 'PostCredit',
    accountId: payment.merchantAccountId,
    journal: { id: payment.captureJournalId, kind: 'capture', leg: 'first', counterpartyAccountId: clearingOf(payment) },
    amount: payment.amount,
    currency: payment.currency,
  });

  /** The first leg of a refund's journal: the merchant debited its part. */
  const refundDebit = (payment: ExistingPayment, refundId: string, amount: bigint, to: string): AccountCommand => ({
    type: 'PostDebit',
    accountId: payment.merchantAccountId,
    journal: { id: refundId, kind: 'refund', leg: 'first', counterpartyAccountId: to },
    amount,
    currency: payment.currency,
  });

  /**
   * Fixes on the payment's stream where a capture's (no `refundId`) or a refund's money goes: to
   * suspense when `refusal` says the merchant's account refuses it, to that account otherwise. The
   * command id names the route, so two writers choosing others do not share one; the route
   * recorded first stands (`state`), and `earlier` says another writer chose it and may have
   * posted part of its journal.
   */
  const chooseRoute = (paymentId: string, refundId: string | undefined, refusal: string | undefined, run: RunContext) => {
    const to = refusal === undefined ? 'merchant' : 'suspense';
    return decideStep(
      paymentId,
      { type: 'ChooseRoute', ...(refundId === undefined ? {} : { refundId }), to, ...(refusal === undefined ? {} : { refusal }), at: now() },
      run,
      `route-${refundId ?? `capture-${paymentId}`}-${to}`,
    );
  };

  /**
   * Replaces by suspense the merchant route of a journal (a refund's, or the capture's without
   * `refundId`) that the merchant's account refuses, `accountStatus` being that account's status
   * as its stream shows it (the decider takes only `closed`). Decided at the revision of the
   * payment's stream read here, so two writers never act on different routes: a writer that moved
   * the payment meanwhile (replaced the route first) is followed, not contradicted.
   */
  const rerouteFromClosedAccount = async (
    payment: ExistingPayment,
    refundId: string | undefined,
    accountStatus: AccountStatus,
    refusal: string,
    run: RunContext,
  ) => {
    const { revision } = await payments.load(paymentStream(payment.paymentId), { fresh: true });
    try {
      await payments.handle(
        paymentStream(payment.paymentId),
        { type: 'RerouteFromClosedAccount', ...(refundId === undefined ? {} : { refundId }), accountStatus, refusal, at: now() },
        contextOf(run, `route-replaced-${refundId ?? `capture-${payment.paymentId}`}`),
        revision === undefined ? {} : { expectedRevision: revision },
      );
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
    }
  };

  /**
   * Posts a journal to the merchant's account chosen for it (`journal(retry)`); a refusal now leaves
   * it waiting for the account, unless the account's stream shows it closed: a closed account never
   * takes a posting again, so the journal's money is booked to suspense instead and nothing can
   * reach the merchant on top of it. Returns whether it was posted; false: the route was replaced
   * (by this run or another writer), and the caller follows the route that stands now.
   */
  const runMerchantJournal = async (
    payment: ExistingPayment,
    refundId: string | undefined,
    journal: (retry: boolean) => Promise<void>,
    run: RunContext,
    retry: boolean,
  ): Promise<boolean> => {
    try {
      await journal(retry);
      return true;
    } catch (error) {
      if (!isRefusal(error)) throw error;
      const refusal = `${error.type}: ${error.message}`;
      const journalId = refundId ?? payment.captureJournalId;
      const { state: merchant } = await accounts.load(accountStream(payment.merchantAccountId), { fresh: true });
      if (!merchant.exists || merchant.status !== 'closed') throw new PaymentJournalWaitingError(payment.paymentId, journalId, refusal);
      // Posted before the close by a run this one does not know of: the log says so, and it stands.
      if (!retry && (await runMerchantJournal(payment, refundId, journal, run, true))) return true;
      await rerouteFromClosedAccount(payment, refundId, merchant.status, refusal, run);
      return false;
    }
  };

  /**
   * Posts the capture's journal and records it. The provider holds the money by now, so a merchant
   * account that refuses the credit (frozen, closed) cannot undo it: the money is booked to suspense
   * instead, by a correction journal with the capture's id (clearing → suspense), the payment is
   * captured all the same and flagged for reconciliation. Which of the two is posted is fixed on the
   * stream first (`ChooseRoute`), so no run credits the merchant on top of a suspense booking.
   */
  const postCapture = async (payment: ExistingPayment, run: RunContext, retry: boolean, callbackEventId?: string) => {
    // Decided on the stream first: a failure another writer decides meanwhile is refused, so no
    // payment is recorded failed while its capture's money is posted.
    const started = await decideStep(
      payment.paymentId,
      { type: 'StartCapture', at: now(), ...cause(callbackEventId) },
      run,
      `capture-start-${payment.paymentId}`,
    );
    let again = retry || started.earlier;
    let route = (started.state as ExistingPayment).capturing?.route;
    if (route === undefined) {
      let refusal: string | undefined;
      // Streams from before routes were chosen: a journal an earlier run posted says where the money went.
      const [toMerchant, toSuspense] = again
        ? await Promise.all([
            movements.read(journalStream('capture', payment.captureJournalId)),
            movements.read(journalStream('correction', payment.captureJournalId)),
          ])
        : [undefined, undefined];
      if (toSuspense !== undefined) refusal = toSuspense.movement.description ?? 'refused';
      else if (toMerchant?.outcome.status !== 'completed') refusal = await merchantRefusal(payment, captureCredit(payment));
      const chosen = await chooseRoute(payment.paymentId, undefined, refusal, run);
      again ||= chosen.earlier;
      route = (chosen.state as ExistingPayment).capturing?.route;
      // Recorded by another writer meanwhile.
      if (route === undefined) return;
    }
    const clearing = { from: clearingOf(payment), amount: payment.amount };
    if (route.to === 'suspense') {
      const toSuspense = { ...clearing, to: suspenseOf(payment), description: route.refusal };
      await runJournal('correction', payment.captureJournalId, payment, toSuspense, run, again);
      await bookCaptureToSuspense(payment, route.refusal, run, callbackEventId);
      return;
    }
    const toMerchant = { ...clearing, to: payment.merchantAccountId };
    const posted = await runMerchantJournal(
      payment,
      undefined,
      (journalRetry) => runJournal('capture', payment.captureJournalId, payment, toMerchant, run, journalRetry),
      run,
      again,
    );
    if (!posted) {
      const { payment: rerouted } = await load(payment.paymentId, true);
      // Recorded by another writer meanwhile.
      if (rerouted.capturing !== undefined) await postCapture(rerouted, run, true, callbackEventId);
      return;
    }
    await handle(
      payment.paymentId,
      { type: 'CapturePayment', at: now(), ...cause(callbackEventId) },
      run,
      `capture-${payment.paymentId}`,
    );
  };

  /**
   * Refuses, with nothing written, a capture the merchant's account would refuse now: the first leg
   * of its journal decided on the account's current state (status, currency).
   */
  const checkMerchantTakes = async (payment: ExistingPayment) => {
    const { state: merchant } = await accounts.load(accountStream(payment.merchantAccountId), { fresh: true });
    accountDecider.decide(captureCredit(payment), merchant);
  };

  /**
   * Refuses, with nothing written, a payment whose merchant's account was closed: it never takes a
   * posting again, so the customer would be charged for money only suspense could hold. A frozen
   * account may be unfrozen before the capture, which is checked then.
   */
  const checkMerchantOpen = async (payment: ExistingPayment) => {
    const { state: merchant } = await accounts.load(accountStream(payment.merchantAccountId), { fresh: true });
    if (merchant.exists && merchant.status === 'closed') accountDecider.decide(captureCredit(payment), merchant);
  };

  /**
   * Posts the journals of the settlement fixed on the payment's stream, and records it. Every writer
   * posts the fee recorded there, so the journals and the record cannot disagree.
   */
  const completeSettlement = async (payment: ExistingPayment, run: RunContext, retry: boolean) => {
    const { fee, callbackEventId } = payment.settling!;
    const net = payment.captured - payment.refunded - fee;
    const clearing = clearingOf(payment);
    if (net > 0n) {
      const bank = systemAccountId({ role: 'bank', currency: payment.currency });
      await runJournal('settlement', payment.settlementJournalId, payment, { from: bank, to: clearing, amount: net }, run, retry);
    }
    if (fee > 0n) {
      const fees = systemAccountId({ role: 'fees', currency: payment.currency });
      await runJournal('fee', payment.feeJournalId, payment, { from: fees, to: clearing, amount: fee }, run, retry);
    }
    await handle(
      payment.paymentId,
      { type: 'SettlePayment', fee, at: now(), ...cause(callbackEventId) },
      run,
      `settle-${payment.paymentId}`,
    );
  };

  /**
   * Fixes the fee on the payment's stream, then completes the settlement. Another writer may have
   * fixed one first (a second instance of the write API): a settlement with another fee is refused.
   */
  const postSettlement = async (payment: ExistingPayment, fee: bigint, run: RunContext, callbackEventId?: string) => {
    // The command id names what is decided: the store takes an append of the same event ids as a
    // retry of it, so two writers deciding other fees must not share one.
    const started = await decideStep(
      payment.paymentId,
      { type: 'StartSettlement', fee, at: now(), ...cause(callbackEventId) },
      run,
      `settle-start-${payment.paymentId}-${fee}-${callbackEventId ?? 'requested'}`,
    );
    const decided = started.state as ExistingPayment;
    const fixed = decided.settling?.fee ?? decided.fee;
    if (fixed !== fee) {
      const why = `a settlement with a fee of ${fixed} was decided first`;
      throw new IllegalPaymentTransitionError(payment.paymentId, decided.state, 'settle', why);
    }
    if (decided.settling !== undefined) await completeSettlement(decided, run, started.earlier);
  };

  const bookFromSuspense = (payment: ExistingPayment, refundId: string, refusal: string, run: RunContext) =>
    handle(
      payment.paymentId,
      { type: 'BookRefundFromSuspense', refundId, refusal, at: now() },
      run,
      `refund-suspense-${refundId}`,
    );

  const completeRefund = (payment: ExistingPayment, refundId: string, run: RunContext) =>
    handle(payment.paymentId, { type: 'CompleteRefund', refundId, at: now() }, run, `refund-done-${refundId}`);

  /**
   * Posts a requested refund's journals and records it. The part the capture's suspense booking
   * holds (the merchant's account refused the capture, so never received it) is paid back from
   * suspense; the rest is the merchant's, debited first. The provider has refunded by now (Folio
   * asked it first, or it reported the refund), so a merchant account that refuses the debit
   * (frozen, or spent in between) cannot undo it: its part is paid from suspense too and the
   * payment is flagged for reconciliation. Whatever comes from suspense is one correction journal
   * with the refund's id, posted last. Whether the merchant's part comes from the merchant or from
   * suspense is fixed on the stream first (`ChooseRoute`), so no run debits the merchant on top of
   * a suspense payment.
   */
  const postRefund = async (payment: ExistingPayment, refundId: string, run: RunContext, retry: boolean) => {
    let refund = payment.refundsInFlight[refundId]!;
    const to = refundAccountOf(payment, refund.from);
    const merchantPart = refund.amount - refund.fromCaptureInSuspense;
    let again = retry;
    if (merchantPart > 0n && refund.route === undefined) {
      let refusal: string | undefined;
      // Streams from before routes were chosen: a correction an earlier run posted (its last
      // journal) paid more than the suspense booking's part when the merchant's account refused its own.
      const corrected = retry ? await movements.read(journalStream('correction', refundId)) : undefined;
      if (corrected !== undefined) {
        if (corrected.movement.amount > refund.fromCaptureInSuspense) refusal = corrected.movement.description ?? 'refused';
      } else {
        refusal = await merchantRefusal(payment, refundDebit(payment, refundId, merchantPart, to));
      }
      const chosen = await chooseRoute(payment.paymentId, refundId, refusal, run);
      again ||= chosen.earlier;
      const standing = (chosen.state as ExistingPayment).refundsInFlight[refundId];
      // Ended by another writer meanwhile.
      if (standing === undefined) return;
      refund = standing;
    }
    const refusal = refund.route?.to === 'suspense' ? refund.route.refusal : undefined;
    if (merchantPart > 0n && refusal === undefined) {
      const fromMerchant = { from: payment.merchantAccountId, to, amount: merchantPart };
      const posted = await runMerchantJournal(
        payment,
        refundId,
        (journalRetry) => runJournal('refund', refundId, payment, fromMerchant, run, journalRetry),
        run,
        again,
      );
      if (!posted) {
        const { payment: rerouted } = await load(payment.paymentId, true);
        // Ended by another writer meanwhile.
        if (rerouted.refundsInFlight[refundId] !== undefined) await postRefund(rerouted, refundId, run, true);
        return;
      }
    }
    const fromSuspense = refusal === undefined ? refund.fromCaptureInSuspense : refund.amount;
    if (fromSuspense > 0n) {
      const description = refusal ?? 'refund of a capture booked to suspense';
      const fromSuspenseRoute = { from: suspenseOf(payment), to, amount: fromSuspense, description };
      await runJournal('correction', refundId, payment, fromSuspenseRoute, run, again);
    }
    if (refusal === undefined) await completeRefund(payment, refundId, run);
    else await bookFromSuspense(payment, refundId, refusal, run);
  };

  /**
   * Refuses, with nothing written, a refund the merchant's account would refuse now: the first leg
   * of its journal decided on the account's current state (status, currency, available balance).
   * The part the capture's suspense booking pays back is not asked of the merchant.
   */
  const checkMerchantPays = async (payment: ExistingPayment, refundId: string, amount: bigint) => {
    const merchantPart = amount - suspensePartOf(payment, amount);
    if (merchantPart === 0n) return;
    const { state: merchant } = await accounts.load(accountStream(payment.merchantAccountId), { fresh: true });
    accountDecider.decide(refundDebit(payment, refundId, merchantPart, refundAccountOf(payment, refundSource(payment))), merchant);
  };

  /**
   * A journal waiting for the merchant's account stays under way: the payment is read and moved as
   * it is meanwhile, and the next touch tries it again.
   */
  const unlessWaiting = async (step: Promise<void>) => {
    try {
      await step;
    } catch (error) {
      if (!(error instanceof PaymentJournalWaitingError)) throw error;
    }
  };

  /**
   * Completes what an interrupted run left between a journal and its record: the journals in the
   * log are the truth about the money.
   */
  const journalsRepaired = async (paymentId: string, run: RunContext): Promise<ExistingPayment> => {
    let { payment } = await load(paymentId);
    if (payment.state === 'PENDING') {
      const [capture, toSuspense] = await Promise.all([
        movements.read(journalStream('capture', payment.captureJournalId)),
        movements.read(journalStream('correction', payment.captureJournalId)),
      ]);
      if (payment.capturing !== undefined || capture?.outcome.status === 'completed' || toSuspense !== undefined) {
        await unlessWaiting(postCapture(payment, run, true, payment.capturing?.callbackEventId));
        ({ payment } = await load(paymentId));
      }
    }
    if (payment.state === 'PAID' && payment.settling !== undefined) {
      await completeSettlement(payment, run, true);
      ({ payment } = await load(paymentId));
    }
    // Streams from before settlements were fixed on the stream first: the journals say what was posted.
    if (payment.state === 'PAID' && Object.keys(payment.refundsInFlight).length === 0) {
      const [net, fee] = await Promise.all([
        movements.read(journalStream('settlement', payment.settlementJournalId)),
        movements.read(journalStream('fee', payment.feeJournalId)),
      ]);
      if (net !== undefined || fee !== undefined) {
        const gross = payment.captured - payment.refunded;
        const posted = net !== undefined ? gross - net.movement.amount : fee!.movement.amount;
        await completeSettlement({ ...payment, settling: { fee: posted } }, run, true);
        ({ payment } = await load(paymentId));
      }
    }
    // A reservation whose provider answer is not recorded moves no money: the provider may not have
    // refunded. A read never asks it; the request retried with its key does, and so does refund
    // recovery once it is overdue (`refundRecovery.ts`).
    for (const [refundId, refund] of Object.entries(payment.refundsInFlight)) {
      if (refund.awaitingProvider !== undefined) continue;
      await unlessWaiting(postRefund(payment, refundId, run, true));
      ({ payment } = await load(paymentId));
    }
    return payment;
  };

  const capture = async (paymentId: string, run: RunContext, { callbackEventId, claimValidUntil }: MoveOrigin = {}) => {
    const payment = await journalsRepaired(paymentId, run);
    check(payment, { type: 'CapturePayment', at: now() });
    // A capture the provider reported has happened; one Folio is asked to record happens only if the books take it now.
    if (callbackEventId === undefined) await checkMerchantTakes(payment);
    // One under way (its journal waiting for the merchant's account) is carried on at any time; none: this starts it.
    if (payment.capturing === undefined) ensureClaimLeaseHeld(claimValidUntil, clock);
    await postCapture(payment, run, false, callbackEventId);
  };

  const settle = async (paymentId: string, fee: bigint, run: RunContext, { callbackEventId, claimValidUntil }: MoveOrigin = {}) => {
    const payment = await journalsRepaired(paymentId, run);
    check(payment, { type: 'StartSettlement', fee, at: now() });
    // A settlement under way was completed above: this starts one.
    ensureClaimLeaseHeld(claimValidUntil, clock);
    await postSettlement(payment, fee, run, callbackEventId);
  };

  const fail = async (paymentId: string, reason: string, run: RunContext, callbackEventId?: string) => {
    const payment = await journalsRepaired(paymentId, run);
    const command: PaymentCommand = { type: 'FailPayment', reason, at: now(), ...cause(callbackEventId) };
    // Decided here first: the handler answers a command id it has seen (a failure before) as done.
    check(payment, command);
    await handle(paymentId, command, run, `fail-${paymentId}`);
  };

  /**
   * Asks the provider for a refund reserved on the payment's stream, records its answer, and posts
   * the refund it took. Only a reserved refund is sent, so the provider never refunds what another
   * writer's refund or settlement took first. The refund id is the provider's idempotency key: a
   * request retried after a lost answer is answered as the first was, never refunded twice.
   */
  const askProvider = async (payment: ExistingPayment, refundId: string, amount: bigint, run: RunContext) => {
    const { paymentId } = payment;
    let providerRefundRef: string;
    try {
      ({ providerRefundRef } = await providers.adapterFor(payment.provider).refundPayment({
        paymentId,
        providerRef: payment.providerRef!,
        refundId,
        amount,
        currency: payment.currency,
      }));
    } catch (error) {
      // A declined refund releases its reservation; any other error may come after the provider
      // took it, so the reservation stays until the request is retried or recovery asks again.
      if (error instanceof ProviderRefusedError) {
        const reason = error.message === '' ? 'declined' : error.message;
        await handle(paymentId, { type: 'DeclineRefund', refundId, reason, at: now() }, run, `refund-declined-${refundId}`);
        // Callbacks that waited for the refund are judged without it now, not at the next touch.
        await applyDeferred(paymentId, run);
      }
      throw providerRequestError(payment.provider, error);
    }
    const accepted = await decideStep(
      paymentId,
      { type: 'AcceptRefund', refundId, providerRefundRef, at: now() },
      run,
      `refund-accepted-${refundId}-${providerRefundRef}`,
    );
    const recorded = accepted.state as ExistingPayment;
    // Ended: the provider's report of it booked it first.
    if (recorded.refundsInFlight[refundId] === undefined) return;
    await postRefund(recorded, refundId, run, accepted.earlier);
  };

  const refund = async (
    paymentId: string,
    refundId: string,
    amount: bigint,
    run: RunContext,
    origin: MoveOrigin & { providerRefundRef?: string } = {},
  ) => {
    const payment = await journalsRepaired(paymentId, run);
    // The same refund asked again (a retried request): it ended, or the repair above ended it.
    if (payment.refundsEnded.includes(refundId)) return;
    const request: PaymentCommand = { type: 'RequestRefund', refundId, amount, at: now(), ...cause(origin.callbackEventId) };
    check(payment, request);
    // A refund the provider reported has happened: it is recorded and posted.
    if (origin.callbackEventId !== undefined) {
      const { providerRefundRef } = origin;
      const requested = await handle(
        paymentId,
        { ...request, ...(providerRefundRef === undefined ? {} : { providerRefundRef }) },
        run,
        `refund-${refundId}`,
      );
      const recorded = requested.state as ExistingPayment;
      // Not under way: the books hold it under its reference already.
      if (recorded.refundsInFlight[refundId] === undefined) return;
      await postRefund(recorded, refundId, run, requested.replayed);
      return;
    }
    // One Folio asks for happens only if the books take it now, and is reserved on the payment's
    // stream before the provider hears of it. Reserved already: its provider answer was lost.
    let reserved = payment;
    if (payment.refundsInFlight[refundId] === undefined) {
      await checkMerchantPays(payment, refundId, amount);
      ensureClaimLeaseHeld(origin.claimValidUntil, clock);
      const requested = await handle(paymentId, { ...request, awaitsProvider: true }, run, `refund-${refundId}`);
      reserved = requested.state as ExistingPayment;
    }
    if (reserved.refundsInFlight[refundId]?.awaitingProvider === undefined) return;
    await askProvider(reserved, refundId, amount, run);
  };

  /**
   * Refuses a reference the caller gives unless the provider holds it for this payment, its amount
   * and currency: the provider's callbacks under a reference move money to whichever payment
   * claimed it, so a reference of another payment (guessed, or leaked) would take its money.
   */
  const checkGivenReference = async (payment: ExistingPayment, providerRef: string): Promise<void> => {
    let held: ProviderPayment | undefined;
    try {
      held = await providers.adapterFor(payment.provider).findPayment(providerRef);
    } catch (error) {
      throw new ProviderUnavailableError(payment.provider, error instanceof Error ? error.message : String(error));
    }
    if (held === undefined) throw new ProviderReferenceUnknownError(payment.provider, providerRef);
    const mismatch = (differences: string[]) =>
      new ProviderReferenceMismatchError(payment.provider, providerRef, payment.paymentId, differences);
    // Another payment's amount and currency are not the caller's to learn.
    if (held.paymentId !== payment.paymentId) throw mismatch(['another Folio payment']);
    const differences = [
      ...(held.amount === payment.amount
        ? []
        : [`amount ${formatMinorUnits(held.amount)} (the payment's is ${formatMinorUnits(payment.amount)})`]),
      ...(held.currency === payment.currency ? [] : [`currency ${held.currency} (the payment's is ${payment.currency})`]),
    ];
    if (differences.length > 0) throw mismatch(differences);
  };

  const submit = async (paymentId: string, givenRef: string | undefined, run: RunContext) => {
    const payment = await journalsRepaired(paymentId, run);
    // Without a reference no submission is a repeat of the recorded one (references are never empty):
    // the provider is asked only for a payment not yet submitted.
    check(payment, { type: 'SubmitPayment', providerRef: givenRef ?? '', at: now() });
    // Checked before it is claimed; the reference this payment recorded was checked when it was.
    if (givenRef !== undefined && givenRef !== payment.providerRef) await checkGivenReference(payment, givenRef);
    let providerRef = givenRef;
    if (providerRef === undefined) {
      // Only Folio's own submission charges the customer: a reference given is a charge the
      // provider holds already, recorded whatever the account says.
      await checkMerchantOpen(payment);
      try {
        ({ providerRef } = await providers.adapterFor(payment.provider).submitPayment({
          paymentId,
          amount: payment.amount,
          currency: payment.currency,
          ...(payment.description === undefined ? {} : { description: payment.description }),
        }));
      } catch (error) {
        // A declined submission is final: the payment fails with the provider's reason, and the
        // caller is answered with the refusal, as a submission asked again will be.
        if (error instanceof ProviderRefusedError) {
          const reason = error.message === '' ? 'declined' : error.message;
          await handle(paymentId, { type: 'DeclineSubmission', reason, at: now() }, run, `decline-${paymentId}`);
          // Callbacks that waited for the submission are judged against the failure now, not at the next touch.
          await applyDeferred(paymentId, run);
          throw new ProviderDeclinedError(payment.provider, reason);
        }
        throw providerRequestError(payment.provider, error);
      }
    }
    try {
      await references.claim(payment.provider, providerRef, { resource: 'payment', resourceId: paymentId }, run);
    } catch (error) {
      // The provider holds a charge for this payment under the reference (it answered with it, or
      // it was checked there) that Folio cannot book: it is recorded, flagged, and the provider is
      // not asked again.
      if (!(error instanceof ProviderReferenceTakenError)) throw error;
      const takenBy = await references.lookup(payment.provider, providerRef);
      await handle(
        paymentId,
        { type: 'RecordReferenceTaken', providerRef, ...(takenBy === undefined ? {} : { takenBy }), at: now() },
        run,
        `reference-taken-${paymentId}`,
      );
      throw error;
    }
    await handle(paymentId, { type: 'SubmitPayment', providerRef, at: now() }, run, `submit-${paymentId}`);
  };

  const refuseCallback = (paymentId: string, callback: PaymentCallback, detail: string, run: RunContext) =>
    handle(paymentId, { type: 'RefuseCallback', callback, detail, at: now() }, run, `callback-refused-${callback.eventId}-${ids.nextId()}`);

  /**
   * Applies a callback recorded as applied; if the books refuse it, that is recorded and flagged.
   * It is judged on the books as they are first: a move under way may have held it back since it
   * was recorded (it waits for that move to end, `heldBack`), and what that move booked may
   * contradict it now (a refund posted meanwhile changes what a settlement takes).
   */
  const applyCallback = async (paymentId: string, callback: PaymentCallback, run: RunContext) => {
    const { payment } = await load(paymentId);
    const judged = judgeCallback(payment, callback);
    if (judged.outcome === 'deferred') return;
    if (judged.outcome === 'refused' || judged.outcome === 'superseded') {
      await refuseCallback(paymentId, callback, judged.detail, run);
      return;
    }
    try {
      switch (callback.callbackType) {
        case 'payment.captured':
          return await capture(paymentId, run, { callbackEventId: callback.eventId });
        case 'payment.failed':
          return await fail(paymentId, callback.reason ?? 'failed at the provider', run, callback.eventId);
        case 'payment.settled':
          return await settle(paymentId, callback.fee ?? 0n, run, { callbackEventId: callback.eventId });
        case 'payment.refunded':
          return await refund(paymentId, ids.nextId(), callback.amount ?? 0n, run, {
            callbackEventId: callback.eventId,
            ...(callback.providerRefundRef === undefined ? {} : { providerRefundRef: callback.providerRefundRef }),
          });
      }
    } catch (error) {
      if (!isRefusal(error)) throw error;
      // Decided on the stream as it is: a move another writer started meanwhile leaves it awaiting its change.
      await refuseCallback(paymentId, callback, `${error.type}: ${error.message}`, run);
    }
  };

  /** A callback recorded as applied whose change has not followed, and which no move under way holds back. */
  const unfinishedCallback = (payment: ExistingPayment) =>
    payment.applied.find((callback) => awaitsEffect(payment, callback) && !heldBack(payment, callback));

  /**
   * The payment with the callbacks recorded as applied whose change never followed completed (the
   * run applying them failed, or a move under way held them back and has ended).
   */
  const callbacksCompleted = async (paymentId: string, run: RunContext, from: ExistingPayment): Promise<ExistingPayment> => {
    let payment = from;
    for (let callback = unfinishedCallback(payment); callback !== undefined; callback = unfinishedCallback(payment)) {
      try {
        await applyCallback(paymentId, callback, run);
      } catch (error) {
        // Its journal waits for the merchant's account: the next touch tries it again.
        if (error instanceof PaymentJournalWaitingError) return (await load(paymentId)).payment;
        throw error;
      }
      ({ payment } = await load(paymentId));
    }
    return payment;
  };

  /** The payment with every interrupted change completed: its journals' records first, then its callbacks. */
  const repaired = async (paymentId: string, run: RunContext): Promise<ExistingPayment> =>
    callbacksCompleted(paymentId, run, await journalsRepaired(paymentId, run));

  /**
   * Applies the callbacks the payment's state now allows: those recorded as applied that a move
   * which has ended held back, then the deferred ones, lowest rank first. Each try is
   * recorded as decided on the stream as it is then (another writer may have moved it, deferring
   * the callback again), and applied only if recorded so. Its command id is its own: a later try
   * under the id of one recorded as deferred would be answered as that one, leaving the callback
   * deferred and tried again forever.
   */
  const applyDeferred = async (paymentId: string, run: RunContext) => {
    for (;;) {
      const payment = await callbacksCompleted(paymentId, run, (await load(paymentId)).payment);
      const ready = [...payment.deferred]
        .sort(
          (a, b) =>
            callbackRank[a.callbackType] - callbackRank[b.callbackType] || a.providerCreatedAt.localeCompare(b.providerCreatedAt),
        )
        .find((callback) => classifyCallback(payment, callback, true).outcome !== 'deferred');
      if (ready === undefined) return;
      const recorded = await handle(
        paymentId,
        { type: 'ReceiveCallback', callback: ready, redelivery: true, at: now() },
        run,
        `redelivered-${ready.eventId}-${ids.nextId()}`,
      );
      if (awaitsEffect(recorded.state as ExistingPayment, ready)) await applyCallback(paymentId, ready, run);
    }
  };

  /**
   * Runs a move under the payment's lock, then whatever deferred callbacks it made applicable.
   * A retried request (`attempt.retry`) whose move already took effect answers with the payment.
   */
  const move = (
    paymentId: string,
    run: RunContext,
    attempt: MovementAttempt,
    tookEffect: (payment: ExistingPayment) => boolean,
    work: () => Promise<void>,
  ): Promise<PaymentView> =>
    locked(paymentId, async () => {
      const current = await repaired(paymentId, run);
      if (!(attempt.retry && tookEffect(current))) await work();
      await applyDeferred(paymentId, run);
      const { payment, position } = await load(paymentId);
      return paymentView(payment, position);
    });

  const reached =
    (...states: ExistingPayment['state'][]) =>
    (payment: ExistingPayment) =>
      states.includes(payment.state);

  return {
    async create(paymentId: string, request: CreatePaymentRequest, run: RunContext): Promise<PaymentView> {
      const { state: merchant } = await accounts.load(accountStream(request.merchantAccountId), { fresh: true });
      if (!merchant.exists) throw new AccountNotFoundError(request.merchantAccountId);
      if (merchant.kind !== 'merchant') throw new NotAMerchantAccountError(merchant.accountId, merchant.kind);
      const first = BigInt(paymentId);
      const creation = {
        type: 'CreatePayment',
        paymentId,
        ...request,
        captureJournalId: (first + 1n).toString(),
        settlementJournalId: (first + 2n).toString(),
        feeJournalId: (first + 3n).toString(),
        at: now(),
      } as const;
      // An account that would refuse the capture now (another currency, frozen, closed) takes no payment.
      accountDecider.decide(captureCredit(creation), merchant);
      providers.adapterFor(request.provider);
      const result = await handle(paymentId, creation, run, `create-${paymentId}`);
      return paymentView(result.state as ExistingPayment, result.position);
    },
    /**
     * Not held to the lease of the request's claim: a submission posts no money, the provider answers
     * a payment asked again under its id as it did the first time, and what a takeover decided
     * (submitted, declined, its reference taken) is on the payment's stream, which refuses it again.
     */
    submit: (paymentId: string, providerRef: string | undefined, run: RunContext, attempt: MovementAttempt = { retry: false }) =>
      move(paymentId, run, attempt, reached('PENDING', 'PAID', 'SETTLED', 'REFUNDED'), () => submit(paymentId, providerRef, run)),
    /** A capture not under way yet is started only within the lease of the request's claim. */
    capture: (paymentId: string, run: RunContext, attempt: MovementAttempt = { retry: false }) =>
      move(paymentId, run, attempt, reached('PAID', 'SETTLED', 'REFUNDED'), () =>
        capture(paymentId, run, { claimValidUntil: attempt.claimValidUntil }),
      ),
    /** A settlement is started only within the lease of the request's claim. */
    settle: (paymentId: string, fee: bigint, run: RunContext, attempt: MovementAttempt = { retry: false }) =>
      move(
        paymentId,
        run,
        attempt,
        (payment) => payment.fee !== undefined,
        () => settle(paymentId, fee, run, { claimValidUntil: attempt.claimValidUntil }),
      ),
    fail: (paymentId: string, reason: string, run: RunContext, attempt: MovementAttempt = { retry: false }) =>
      move(paymentId, run, attempt, reached('FAILED'), () => fail(paymentId, reason, run)),
    /**
     * A refund id asked again changes nothing, retried or not. A refund not reserved yet is reserved
     * only within the lease of the request's claim; one reserved already is carried on.
     */
    refund: (paymentId: string, refundId: string, amount: bigint, run: RunContext, attempt: MovementAttempt = { retry: false }) =>
      move(
        paymentId,
        run,
        { retry: false },
        () => false,
        () => refund(paymentId, refundId, amount, run, { claimValidUntil: attempt.claimValidUntil }),
      ),

    /** Records a provider callback about the payment and applies it by precedence; returns its outcome. */
    receiveCallback: (paymentId: string, callback: PaymentCallback, run: RunContext) =>
      locked(paymentId, async () => {
        const payment = await repaired(paymentId, run);
        const classification = classifyCallback(payment, callback, false);
        const recorded = await handle(
          paymentId,
          { type: 'ReceiveCallback', callback, redelivery: false, at: now() },
          run,
          `callback-${callback.eventId}-${ids.nextId()}`,
        );
        // Judged on this process's view; the record was decided on the stream as it is (another
        // writer may have moved it): only a callback recorded as applied there is applied.
        if (classification.outcome === 'applied' && awaitsEffect(recorded.state as ExistingPayment, callback)) {
          await applyCallback(paymentId, callback, run);
        }
        await applyDeferred(paymentId, run);
        return classification;
      }),

    /**
     * The payment as its stream says now, with any interrupted move completed first, and the
     * callbacks that waited for what it completed applied. A read never asks the provider and
     * decides nothing new: it completes what the log already holds (journals, callbacks recorded),
     * the system's own doing, so it is recorded under the system's name rather than the reader's.
     */
    get: (paymentId: string, run: RunContext) =>
      locked(paymentId, async () => {
        const repair = { correlationId: run.correlationId, actor: REPAIR_ACTOR };
        await load(paymentId, true);
        await repaired(paymentId, repair);
        await applyDeferred(paymentId, repair);
        const { payment, position } = await load(paymentId);
        return paymentView(payment, position);
      }),

    /**
     * Asks the provider again about a refund reserved for it whose answer was never recorded, under
     * the same refund id (its idempotency key there: the provider answers as it did the first time),
     * and records the answer as a request does: accepted, the refund is posted; declined, the
     * reservation is released. Resolves once the answer is recorded, or was meanwhile; throws while
     * the provider cannot be reached, the reservation kept for the next attempt.
     */
    recoverRefund: (paymentId: string, refundId: string) =>
      locked(paymentId, async () => {
        const run = { correlationId: `refund-recovery-${refundId}`, actor: REFUND_RECOVERY_ACTOR };
        // Another process may have recorded the answer: the stream decides, not this process's copy.
        await load(paymentId, true);
        const payment = await repaired(paymentId, run);
        const reserved = payment.refundsInFlight[refundId];
        if (reserved?.awaitingProvider !== undefined) {
          try {
            await askProvider(payment, refundId, reserved.amount, run);
          } catch (error) {
            // Declined: recorded and released by `askProvider`, the recovery's work done.
            if (!(error instanceof ProviderDeclinedError)) throw error;
          }
        }
        await applyDeferred(paymentId, run);
      }),

    /** The payment with this id, if there is one (for callbacks that name Folio's id). */
    find: async (paymentId: string): Promise<ExistingPayment | undefined> => {
      const { state } = await payments.load(paymentStream(paymentId));
      return state.exists ? state : undefined;
    },
  };
};

const cause = (callbackEventId: string | undefined) => (callbackEventId === undefined ? {} : { callbackEventId });

export type PaymentService = ReturnType<typeof createPaymentService>;
