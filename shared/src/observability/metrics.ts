import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ProjectionLag } from './projectionLag.js';

/** What the reconciliation read model says, for the metrics. */
export interface ReconciliationTotals {
  open: Record<string, number>;
  deltas: { provider: string; currency: string; minorUnits: bigint }[];
}

/** How long a scrape waits for the reconciliation read model before it goes on without its series. */
export const RECONCILIATION_SCRAPE_WAIT_MS = 2_000;

/** What `reading` resolves to, or undefined when it fails or has not settled within `waitMs`. */
const settledWithin = <T>(reading: Promise<T>, waitMs: number): Promise<T | undefined> =>
  new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), waitMs).unref();
    void reading
      .then(resolve, () => resolve(undefined))
      .finally(() => clearTimeout(timer));
  });

/**
 * Refunds asked of a provider whose answer is not recorded, as refund recovery last counted them,
 * for one provider and currency (the payment's).
 */
export interface RefundsAwaitingProviderStatus {
  provider: string;
  currency: string;
  awaiting: number;
  /** Those unanswered longer than the retry delay: asked again, and still unanswered if the provider stays unreachable. */
  overdue: number;
  /** Since the oldest was asked for. */
  oldestAgeSeconds: number;
}

/**
 * Folio's Prometheus metrics, one registry per process. Gauges read when scraped are registered
 * by the parts a process runs (`observeProjectionLag`, `observeStuckMovements`, `observeReconciliation`,
 * `observeRefundsAwaitingProvider`, `observeCallbacksAwaitingEffect`, `observePayoutsPastDeadline`).
 */
export const createMetrics = () => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'folio_' });

  const commands = new Counter({
    name: 'folio_commands_total',
    help: 'Commands handled by the write API, by route and HTTP status',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  });
  const duplicateCommands = new Counter({
    name: 'folio_duplicate_commands_total',
    help: 'Commands answered from their idempotency record (a retry of an earlier request)',
    labelNames: ['route'] as const,
    registers: [registry],
  });
  const appendDuration = new Histogram({
    name: 'folio_append_duration_seconds',
    help: 'Time to append to a stream of the event store, until durable, by outcome: appended, conflict (not at the expected revision) or refused',
    labelNames: ['outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const eventsAppended = new Counter({
    name: 'folio_events_appended_total',
    help: 'Events in successful appends, by type (an idempotent re-append counts again)',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const compensations = new Counter({
    name: 'folio_movement_compensations_total',
    help: 'Money movements that failed after a first leg and were compensated by a reversal posting',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const loadShed = new Counter({
    name: 'folio_load_shed_total',
    help: 'Requests refused with 503 because the store or the projections were saturated',
    labelNames: ['reason'] as const,
    registers: [registry],
  });

  const securityRefusals = new Counter({
    name: 'folio_security_refusals_total',
    help: 'Requests refused by authentication, the access policy, step-up signatures or rate limits',
    labelNames: ['reason'] as const,
    registers: [registry],
  });

  return {
    registry,
    commands,
    duplicateCommands,
    appendDuration,
    eventsAppended,
    compensations,
    loadShed,
    securityRefusals,
    /**
     * Reports the projections' lag, and how long each has been failing (`now` reads the time of
     * the scrape), read at every scrape.
     */
    observeProjectionLag(read: () => readonly ProjectionLag[], now: () => number = Date.now): void {
      new Gauge({
        name: 'folio_projection_lag_positions',
        help: 'Global positions between the head of the log and what each projection reflects',
        labelNames: ['projection'] as const,
        registers: [registry],
        collect() {
          for (const lag of read()) this.set({ projection: lag.name }, Number(lag.positions));
        },
      });
      new Gauge({
        name: 'folio_projection_lag_seconds',
        help: 'Seconds between the head of the log and the last event each projection reflects',
        labelNames: ['projection'] as const,
        registers: [registry],
        collect() {
          for (const lag of read()) this.set({ projection: lag.name }, lag.seconds);
        },
      });
      // Its lag may stay small while it fails (nothing is behind while no event arrives): alerts need this too.
      new Gauge({
        name: 'folio_projection_failing_seconds',
        help: 'Seconds each projection has been failing (its stores refusing, or its checkpoints not yet read at start), 0 while it works',
        labelNames: ['projection'] as const,
        registers: [registry],
        collect() {
          for (const { name, failing } of read()) {
            this.set({ projection: name }, failing === undefined ? 0 : Math.max(0, (now() - failing.since.getTime()) / 1000));
          }
        },
      });
    },
    /**
     * Reports the reconciliation's open discrepancies and its ledger-vs-provider deltas, read at
     * every scrape. A read that fails or takes longer than `waitMs` (its store down) leaves these
     * series out of that scrape rather than failing it: the projections' series tell of the outage.
     */
    observeReconciliation(read: () => Promise<ReconciliationTotals>, waitMs = RECONCILIATION_SCRAPE_WAIT_MS): void {
      let latest: Promise<ReconciliationTotals> | undefined;
      // Both gauges are filled from one read per scrape; a read that outlasts its scrape serves the next ones.
      const totals = () => settledWithin((latest ??= read().finally(() => setImmediate(() => (latest = undefined)))), waitMs);
      new Gauge({
        name: 'folio_reconciliation_open_discrepancies',
        help: 'Open reconciliation discrepancies, by class',
        labelNames: ['code'] as const,
        registers: [registry],
        async collect() {
          this.reset();
          for (const [code, count] of Object.entries((await totals())?.open ?? {})) this.set({ code }, count);
        },
      });
      new Gauge({
        name: 'folio_reconciliation_delta_minor_units',
        help: 'Ledger minus provider money for payments, per provider and currency, in minor units',
        labelNames: ['provider', 'currency'] as const,
        registers: [registry],
        async collect() {
          this.reset();
          for (const { provider, currency, minorUnits } of (await totals())?.deltas ?? []) this.set({ provider, currency }, Number(minorUnits));
        },
      });
    },
    /** Reports the money movements open longer than the stuck threshold (saga timeouts) at every scrape. */
    observeStuckMovements(count: () => number): void {
      new Gauge({
        name: 'folio_movements_stuck',
        help: 'Money movements open longer than the stuck threshold (saga timeouts)',
        registers: [registry],
        collect() {
          this.set(count());
        },
      });
    },
    /**
     * Reports callback recovery's provider callbacks recorded as applied whose change has not
     * followed, by callback type, and the age of the oldest, at every scrape: one that stays (its
     * journal waiting for a frozen merchant account, the store refusing) shows as a count that does
     * not fall and an age that grows.
     */
    observeCallbacksAwaitingEffect(
      read: () => readonly { callbackType: string; recordedAt: string }[],
      now: () => number = Date.now,
    ): void {
      new Gauge({
        name: 'folio_provider_callbacks_awaiting_effect',
        help: 'Provider callbacks recorded as applied whose change (capture, failure, settlement, refund) has not followed',
        labelNames: ['callback_type'] as const,
        registers: [registry],
        collect() {
          this.reset();
          const counts = new Map<string, number>();
          for (const { callbackType } of read()) counts.set(callbackType, (counts.get(callbackType) ?? 0) + 1);
          for (const [callbackType, count] of counts) this.set({ callback_type: callbackType }, count);
        },
      });
      new Gauge({
        name: 'folio_provider_callbacks_awaiting_effect_oldest_age_seconds',
        help: 'Seconds since the oldest provider callback awaiting its change was recorded (0 with none)',
        registers: [registry],
        collect() {
          const oldest = Math.min(...read().map(({ recordedAt }) => Date.parse(recordedAt)));
          this.set(Number.isFinite(oldest) ? Math.max(0, (now() - oldest) / 1000) : 0);
        },
      });
    },
    /**
     * Reports payout deadline recovery's payouts open past their deadline, and how long past it the
     * oldest is, at every scrape: one it cannot end (the provider or the store unreachable) holds
     * its amount, and shows as a count that does not fall and an age that grows. A hold placed
     * without its payout's request recorded is due when it should have been released.
     */
    observePayoutsPastDeadline(read: () => readonly { deadline: string }[], now: () => number = Date.now): void {
      const deadlinesPassed = () => {
        const at = now();
        return read()
          .map(({ deadline }) => Date.parse(deadline))
          .filter((deadline) => deadline <= at)
          .map((deadline) => (at - deadline) / 1000);
      };
      new Gauge({
        name: 'folio_payouts_past_deadline',
        help: 'Payouts open past their deadline: not paid, or failed with their hold not released yet',
        registers: [registry],
        collect() {
          this.set(deadlinesPassed().length);
        },
      });
      new Gauge({
        name: 'folio_payouts_past_deadline_oldest_age_seconds',
        help: 'Seconds since the deadline of the oldest payout open past it (0 with none)',
        registers: [registry],
        collect() {
          this.set(Math.max(0, ...deadlinesPassed()));
        },
      });
    },
    /**
     * Reports refund recovery's count of refunds awaiting the provider at every scrape, by provider
     * and currency: a provider that stops answering shows as its own series. A provider and currency
     * none awaits any more has no series, rather than one left at its last value.
     */
    observeRefundsAwaitingProvider(read: () => readonly RefundsAwaitingProviderStatus[]): void {
      const gauge = (name: string, help: string, value: (status: RefundsAwaitingProviderStatus) => number) =>
        new Gauge({
          name,
          help,
          labelNames: ['provider', 'currency'] as const,
          registers: [registry],
          collect() {
            this.reset();
            for (const status of read()) this.set({ provider: status.provider, currency: status.currency }, value(status));
          },
        });
      gauge('folio_refunds_awaiting_provider', 'Refunds asked of the provider whose answer is not recorded', (status) => status.awaiting);
      gauge(
        'folio_refunds_awaiting_provider_overdue',
        'Refunds awaiting the provider longer than the retry delay (FOLIO_REFUND_RETRY_SECONDS)',
        (status) => status.overdue,
      );
      gauge(
        'folio_refunds_awaiting_provider_oldest_age_seconds',
        'Seconds since the oldest refund awaiting the provider was asked for',
        (status) => status.oldestAgeSeconds,
      );
    },
  };
};

export type Metrics = ReturnType<typeof createMetrics>;
