import { formatMinorUnits, type CurrencyCode, type PaymentProvider } from '@folio/shared';
import type { CallbackPayloadWire } from './callbackPayload.js';
import { signCallback } from './callbackSignature.js';
import type {
  PaymentSubmission,
  PayoutSubmission,
  ProviderAdapter,
  ProviderPayment,
  RefundSubmission,
} from './providerAdapter.js';
import { ProviderRefusedError } from './providerErrors.js';
import { sandboxBankStatement, type BankCredit, type BankStatementFaults } from './sandboxBankStatement.js';
import { stripeSettlementReport, type ReportFaults, type TargetedReportFaults } from './stripeSettlementReport.js';

/** What can go wrong at the simulated provider; rates are probabilities from 0 to 1. */
export interface SandboxFaults {
  /** A payment fails at the provider instead of being captured. */
  failureRate: number;
  /** The provider never calls back about a payment (it stays PENDING until someone moves it). */
  paymentSilenceRate: number;
  /** A captured payment is also settled (the rest stay PAID). */
  settleRate: number;
  /** Fee taken at settlement, in basis points of the settled amount. */
  feeBasisPoints: number;
  /** A callback is sent twice (the second time with a new signature, as providers retry). */
  duplicateRate: number;
  /**
   * Each callback waits its own random delay in this range, so later ones often overtake
   * earlier ones (a settlement before its capture).
   */
  latencyMs: { min: number; max: number };
  /** The provider refuses a submission outright (the call throws). */
  submitErrorRate: number;
  payoutFailureRate: number;
  /** The provider never answers a payout: Folio's deadline has to release it. */
  payoutSilenceRate: number;
}

const defaultFaults: SandboxFaults = {
  failureRate: 0.1,
  paymentSilenceRate: 0,
  settleRate: 0.8,
  feeBasisPoints: 290,
  duplicateRate: 0.05,
  latencyMs: { min: 20, max: 500 },
  submitErrorRate: 0,
  payoutFailureRate: 0.1,
  payoutSilenceRate: 0,
};

/** Hands a signed callback to Folio: in-process, or over HTTP to its callback endpoint. */
export type CallbackDelivery = (rawBody: string, signature: string) => Promise<void>;

export interface SandboxOptions {
  /** The provider it stands in for: `sandbox`, or a real provider's name for demos and reconciliation. */
  provider: PaymentProvider;
  secret: string;
  faults?: Partial<SandboxFaults>;
  random?: () => number;
  clock?: () => Date;
  /** Delivery attempts of one callback before the sandbox gives up on it (as a provider would). */
  maxDeliveryAttempts?: number;
}

/** A charge as the sandbox keeps it, for its settlement report. */
export interface SandboxCharge {
  paymentId: string;
  providerRef: string;
  amount: bigint;
  currency: CurrencyCode;
  description?: string;
  createdAt: Date;
  outcome: 'captured' | 'failed';
  /** Settled: its fee, and once paid out, the payout that paid it out to the merchant's bank. */
  settled?: { fee: bigint; at: Date; payoutId?: string; paidOutAt?: Date };
  refunds: { providerRefundRef: string; amount: bigint; at: Date }[];
}

const REFERENCE_PREFIX: Record<PaymentProvider, { payment: string; payout: string; refund: string }> = {
  sandbox: { payment: 'sbx_pay_', payout: 'sbx_po_', refund: 'sbx_re_' },
  stripe: { payment: 'pi_', payout: 'po_', refund: 're_' },
  paypal: { payment: 'PAYID-', payout: 'PO-', refund: 'RF-' },
  adyen: { payment: 'PSP', payout: 'PSPPO', refund: 'PSPRF' },
};

/**
 * A simulated payment provider, in-process: it takes submissions, refunds and payouts like a
 * real one (the same Folio id gives the same reference, and a reference finds its payment), then
 * answers with signed callbacks after random delays, with failures, duplicates and reordering as
 * configured, and retries a delivery that did not go through. It remembers its traffic, so it can
 * write a settlement report for it.
 */
export const createSandboxProvider = (options: SandboxOptions) => {
  const faults = { ...defaultFaults, ...options.faults };
  const random = options.random ?? Math.random;
  const clock = options.clock ?? (() => new Date());
  const maxAttempts = options.maxDeliveryAttempts ?? 5;
  const prefix = REFERENCE_PREFIX[options.provider];
  const charges = new Map<string, SandboxCharge>();
  /** The same charges, by the reference each is held under. */
  const chargesByRef = new Map<string, SandboxCharge>();
  const payoutRefs = new Map<string, string>();
  /** Payouts it paid (to the merchant's bank account), for the bank statement. */
  const paidPayouts: BankCredit[] = [];
  let delivery: CallbackDelivery | undefined;
  let eventCounter = 0;
  let inFlight = 0;
  let waiters: (() => void)[] = [];
  const undelivered: CallbackPayloadWire[] = [];
  const bank = { sequenceNumber: 1n, balance: 0n, credited: new Set<string>() };

  const chance = (rate: number) => rate > 0 && random() < rate;
  const latency = () => faults.latencyMs.min + Math.floor(random() * (faults.latencyMs.max - faults.latencyMs.min + 1));

  const settleIfIdle = () => {
    if (inFlight > 0) return;
    const ready = waiters;
    waiters = [];
    for (const resolve of ready) resolve();
  };

  const send = async (payload: CallbackPayloadWire): Promise<void> => {
    const rawBody = JSON.stringify(payload);
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      try {
        if (delivery === undefined) throw new Error('no delivery configured');
        await delivery(rawBody, signCallback(options.secret, Math.floor(clock().getTime() / 1000), rawBody));
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, latency() + 10 * attempt));
      }
    }
    undelivered.push(payload);
  };

  /** Sends a callback after its own delay (and maybe twice). */
  const emit = (type: CallbackPayloadWire['type'], data: CallbackPayloadWire['data']) => {
    const payload: CallbackPayloadWire = {
      id: `evt_${options.provider}_${++eventCounter}`,
      type,
      createdAt: clock().toISOString(),
      data,
    };
    const copies = chance(faults.duplicateRate) ? 2 : 1;
    for (let copy = 0; copy < copies; copy++) {
      inFlight++;
      setTimeout(() => {
        void send(payload).finally(() => {
          inFlight--;
          settleIfIdle();
        });
      }, latency());
    }
  };

  const adapter: ProviderAdapter = {
    provider: options.provider,
    async submitPayment(submission: PaymentSubmission) {
      const known = charges.get(submission.paymentId);
      if (known !== undefined) return { providerRef: known.providerRef };
      if (chance(faults.submitErrorRate)) throw new ProviderRefusedError('the sandbox declined the submission');
      const providerRef = `${prefix.payment}${submission.paymentId}`;
      const failed = chance(faults.failureRate);
      const charge: SandboxCharge = {
        paymentId: submission.paymentId,
        providerRef,
        amount: submission.amount,
        currency: submission.currency,
        ...(submission.description === undefined ? {} : { description: submission.description }),
        createdAt: clock(),
        outcome: failed ? 'failed' : 'captured',
        refunds: [],
      };
      charges.set(submission.paymentId, charge);
      chargesByRef.set(providerRef, charge);
      if (chance(faults.paymentSilenceRate)) return { providerRef };
      const data = { reference: providerRef, folioId: submission.paymentId, currency: submission.currency };
      if (failed) {
        emit('payment.failed', { ...data, reason: 'card_declined' });
      } else {
        emit('payment.captured', { ...data, amount: formatMinorUnits(submission.amount) });
        if (chance(faults.settleRate)) {
          const fee = (submission.amount * BigInt(faults.feeBasisPoints)) / 10_000n;
          charge.settled = { fee, at: clock() };
          emit('payment.settled', { ...data, amount: formatMinorUnits(submission.amount), fee: formatMinorUnits(fee) });
        }
      }
      return { providerRef };
    },
    async findPayment(providerRef: string): Promise<ProviderPayment | undefined> {
      const charge = chargesByRef.get(providerRef);
      return charge === undefined ? undefined : { paymentId: charge.paymentId, amount: charge.amount, currency: charge.currency };
    },
    async refundPayment(submission: RefundSubmission) {
      const providerRefundRef = `${prefix.refund}${submission.refundId}`;
      const charge = charges.get(submission.paymentId);
      if (charge !== undefined && !charge.refunds.some((refund) => refund.providerRefundRef === providerRefundRef)) {
        charge.refunds.push({ providerRefundRef, amount: submission.amount, at: clock() });
      }
      return { providerRefundRef };
    },
    async submitPayout(submission: PayoutSubmission) {
      const known = payoutRefs.get(submission.payoutId);
      if (known !== undefined) return { providerRef: known };
      if (chance(faults.submitErrorRate)) throw new ProviderRefusedError('the sandbox declined the payout');
      const providerRef = `${prefix.payout}${submission.payoutId}`;
      payoutRefs.set(submission.payoutId, providerRef);
      const data = {
        reference: providerRef,
        folioId: submission.payoutId,
        currency: submission.currency,
        amount: formatMinorUnits(submission.amount),
      };
      if (chance(faults.payoutSilenceRate)) return { providerRef };
      if (chance(faults.payoutFailureRate)) emit('payout.failed', { ...data, reason: 'account_closed' });
      else {
        paidPayouts.push({ reference: providerRef, amount: submission.amount, currency: submission.currency, bookedAt: clock() });
        emit('payout.paid', data);
      }
      return { providerRef };
    },
  };

  return {
    adapter,
    /** Where callbacks go; until it is set they are retried and then given up. */
    setDelivery(deliver: CallbackDelivery): void {
      delivery = deliver;
    },
    /** Resolves once every callback sent so far was delivered or given up. */
    idle(): Promise<void> {
      if (inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    /** The charges it saw, by Folio payment id. */
    charges: (): SandboxCharge[] => [...charges.values()],
    /** Callbacks no delivery attempt got through. */
    undelivered: (): readonly CallbackPayloadWire[] => undelivered,
    /**
     * Its traffic as a Stripe itemized settlement report (CSV), with the faults asked for. Settled
     * charges not paid out yet are paid out now, in `payoutId`; earlier ones keep their payout.
     */
    settlementReport: (report: {
      payoutId: string;
      faults?: Partial<ReportFaults>;
      targeted?: Partial<TargetedReportFaults>;
      withPayoutRow?: boolean;
    }): string => {
      const now = clock();
      for (const charge of charges.values())
        if (charge.settled !== undefined && charge.settled.payoutId === undefined) charge.settled = { ...charge.settled, payoutId: report.payoutId, paidOutAt: now };
      return stripeSettlementReport([...charges.values()], { ...report, effectiveAt: now, random });
    },
    /**
     * The merchant's bank statement (camt.053) of the account its payouts go to: a credit for each
     * payout not on an earlier statement (settlement payouts, by payout id, and the payouts Folio
     * asked it for, by its reference), the sequence number and booked balance carried on from
     * the previous statement, with the faults asked for.
     */
    bankStatement: (request: { account?: string; faults?: Partial<BankStatementFaults> } = {}): string => {
      const payouts = new Map<string, BankCredit>();
      for (const charge of charges.values()) {
        const settled = charge.settled;
        if (settled?.payoutId === undefined || bank.credited.has(settled.payoutId)) continue;
        const refunded = charge.refunds.reduce((sum, refund) => sum + refund.amount, 0n);
        const known = payouts.get(settled.payoutId);
        const net = charge.amount - settled.fee - refunded;
        payouts.set(settled.payoutId, {
          reference: settled.payoutId,
          amount: (known?.amount ?? 0n) + net,
          currency: charge.currency,
          bookedAt: settled.paidOutAt ?? clock(),
        });
      }
      const credits = [...payouts.values(), ...paidPayouts.filter((payout) => !bank.credited.has(payout.reference))];
      const currency = credits[0]?.currency ?? 'EUR';
      const statement = sandboxBankStatement({
        account: request.account ?? 'NL91SBXB0417164300',
        currency,
        sequenceNumber: bank.sequenceNumber,
        openingBalance: bank.balance,
        credits: credits.filter((credit) => credit.currency === currency),
        createdAt: clock(),
        ...(request.faults === undefined ? {} : { faults: request.faults }),
      });
      for (const credit of credits) if (credit.currency === currency) bank.credited.add(credit.reference);
      bank.sequenceNumber = statement.sequenceNumber + 1n;
      bank.balance = statement.closingBalance;
      return statement.xml;
    },
  };
};

export type SandboxProvider = ReturnType<typeof createSandboxProvider>;

/** Delivers callbacks over HTTP to Folio's callback endpoint; a non-2xx answer is a failed delivery. */
export const httpDelivery =
  (baseUrl: string, provider: PaymentProvider): CallbackDelivery =>
  async (rawBody, signature) => {
    const response = await fetch(`${baseUrl}/v1/providers/${provider}/callbacks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'folio-provider-signature': signature },
      body: rawBody,
    });
    await response.arrayBuffer();
    if (response.status >= 500) throw new Error(`callback answered ${response.status}`);
  };
