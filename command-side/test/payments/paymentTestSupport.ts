import { expect } from 'chai';
import { accountStream, StoreUnavailableError, systemAccountId, type CurrencyCode, type EventStore, type PaymentProvider } from '@folio/shared';
import { createAccountCommandHandler } from '../../src/accounts/accountCommandHandler.js';
import { signCallback } from '../../src/providers/callbackSignature.js';
import type { CallbackPayloadWire } from '../../src/providers/callbackPayload.js';
import type { ProviderAdapter } from '../../src/providers/providerAdapter.js';
import { ApiServer, createApiHarness, ledgerEvents, uniqueKey, type ApiHarness, type ApiResponse, type TempStore } from '../api/apiHarness.js';
import { interceptAppends } from '../commandHandling/testSupport.js';

/** The secret the tests' sandbox signs with, so a test can sign (or forge) callbacks itself. */
export const SANDBOX_SECRET = 'sandbox-secret-for-tests-0123456789';

/** A sandbox that never calls back by itself: the tests send the callbacks. */
export const quietSandbox = {
  providerSecrets: { sandbox: SANDBOX_SECRET },
  sandboxFaults: { paymentSilenceRate: 1, payoutSilenceRate: 1, latencyMs: { min: 0, max: 0 } },
};

export const openMerchant = async (api: ApiServer, currency = 'EUR'): Promise<string> =>
  (await api.openAccount({ kind: 'merchant', currency, ownerId: 'merchant-1' })).id as string;

export const createPayment = async (
  api: ApiServer,
  merchantAccountId: string,
  amount = '10000',
  extra: Record<string, unknown> = {},
): Promise<any> => {
  const response = await api.post('/v1/payments', { merchantAccountId, amount, currency: 'EUR', provider: 'sandbox', ...extra });
  expect(response.status, response.text).to.equal(201);
  return response.body;
};

/** POSTs a payment move with a fresh idempotency key. */
export const move = (
  api: ApiServer,
  paymentId: string,
  action: string,
  body: unknown = {},
  key = uniqueKey(action),
): Promise<ApiResponse> => api.post(`/v1/payments/${paymentId}/${action}`, body, { key });

export const expectMoved = (response: ApiResponse, state: string): any => {
  expect(response.status, response.text).to.be.oneOf([200, 201]);
  const payment = response.body.payment ?? response.body;
  expect(payment.state, response.text).to.equal(state);
  return payment;
};

/**
 * Creates the payment at the sandbox as a merchant's checkout would, naming Folio's payment id,
 * for the amount and currency given (the payment's by default): the sandbox's reference of it.
 */
export const checkoutAtSandbox = async (
  api: ApiServer,
  payment: { id: string; amount: string; currency: CurrencyCode },
  charged: { amount?: string; currency?: CurrencyCode } = {},
): Promise<string> => {
  const sandbox = api.writeApi.sandbox('sandbox');
  if (sandbox === undefined) throw new Error('this write API has no sandbox');
  const { providerRef } = await sandbox.adapter.submitPayment({
    paymentId: payment.id,
    amount: BigInt(charged.amount ?? payment.amount),
    currency: charged.currency ?? payment.currency,
  });
  return providerRef;
};

/** A payment submitted (the provider gives its reference), then captured: PAID. */
export const paidPayment = async (api: ApiServer, merchant: string, amount = '10000'): Promise<any> => {
  const payment = await createPayment(api, merchant, amount);
  expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
  return expectMoved(await move(api, payment.id, 'capture'), 'PAID');
};

/**
 * Closes the account on its stream, as a close did before it looked for journals waiting on it and
 * payments open on it (or as a close on another instance racing them does).
 */
export const closedUnchecked = async (store: EventStore, accountId: string): Promise<void> => {
  await createAccountCommandHandler(store).handle(
    accountStream(accountId),
    { type: 'CloseAccount', accountId },
    { commandId: `close-${accountId}`, correlationId: `close-${accountId}`, actor: 'operator', now: new Date() },
  );
};

export const clearingId = (currency: CurrencyCode = 'EUR', provider: PaymentProvider = 'sandbox') =>
  systemAccountId({ role: 'provider_clearing', currency, provider });

/** The posted balance of an account (system accounts included), as a bigint. */
export const postedOf = async (api: ApiServer, accountId: string): Promise<bigint> => {
  const response = await api.get(`/v1/accounts/${accountId}`);
  if (response.status === 404) return 0n;
  expect(response.status, response.text).to.equal(200);
  return BigInt(response.body.balance.posted);
};

export interface CallbackOptions {
  secret?: string;
  /** Unix seconds the signature claims. */
  timestamp?: number;
  provider?: string;
  signature?: string;
}

/** Sends a signed callback as the provider would. */
export const sendCallback = (
  api: ApiServer,
  payload: CallbackPayloadWire,
  options: CallbackOptions = {},
): Promise<ApiResponse> => {
  const rawBody = JSON.stringify(payload);
  const signature =
    options.signature ??
    signCallback(options.secret ?? SANDBOX_SECRET, options.timestamp ?? Math.floor(Date.now() / 1000), rawBody);
  return api.post(`/v1/providers/${options.provider ?? 'sandbox'}/callbacks`, rawBody, {
    headers: { 'folio-provider-signature': signature },
  });
};

let eventCounter = 0;
export const paymentCallback = (
  type: CallbackPayloadWire['type'],
  payment: { id: string; providerRef?: string | null },
  data: Partial<CallbackPayloadWire['data']> = {},
  eventId = `evt-test-${process.pid}-${++eventCounter}`,
): CallbackPayloadWire => ({
  id: eventId,
  type,
  createdAt: new Date().toISOString(),
  data: { reference: payment.providerRef ?? `unknown-${payment.id}`, folioId: payment.id, ...data },
});

/** Runs `request` and asserts the books (every event but idempotency records) did not change. */
export const expectBooksUntouched = async (
  store: TempStore['store'],
  request: () => Promise<ApiResponse>,
): Promise<ApiResponse> => {
  const before = (await ledgerEvents(store)).length;
  const response = await request();
  expect(response.status, response.text).to.be.below(500);
  expect((await ledgerEvents(store)).length, `wrote after ${response.status} ${response.text}`).to.equal(before);
  return response;
};

/**
 * A write API with `provider` standing in for the sandbox, on a store whose next append of an
 * event of type `failing.type` to a payment stream fails once, as a crash would leave it.
 */
export const startApiFailingOnce = async (temp: TempStore, provider: ProviderAdapter) => {
  const failing: { type: string | undefined } = { type: undefined };
  const store = interceptAppends(temp.store, (call, proceed) => {
    if (failing.type !== undefined && call.streamName.startsWith('payment-') && call.events.some((event) => event.type === failing.type)) {
      failing.type = undefined;
      return Promise.reject(new StoreUnavailableError('the store went away'));
    }
    return proceed();
  });
  const api = await ApiServer.start(temp.store, {
    sandboxProviders: [],
    providers: [{ adapter: provider, secret: SANDBOX_SECRET }],
    eventStore: store,
  });
  return { api, failing };
};

/** Asks `server` for a payout of 4000 EUR from `accountId` to a bank account, under `key`. */
export const requestPayout = (server: ApiServer, accountId: string, key = uniqueKey('payout')) =>
  server.post(
    '/v1/payouts',
    { accountId, amount: '4000', currency: 'EUR', provider: 'sandbox', destination: 'DE89370400440532013000' },
    { key },
  );

export interface MerchantOnQuietSandbox {
  harness: ApiHarness;
  api: ApiServer;
  merchant: string;
}

/**
 * Gives each test of the suite a fresh write API on a sandbox that calls back only when told, and
 * a merchant account on it: `ready` receives them before each test; they are closed after it.
 */
export const eachTestWithMerchant = (ready: (fresh: MerchantOnQuietSandbox) => void): void => {
  let harness: ApiHarness | undefined;
  beforeEach(async () => {
    harness = await createApiHarness({ ...quietSandbox, callbackToleranceSeconds: 300 });
    ready({ harness, api: harness.api, merchant: await openMerchant(harness.api) });
  });
  afterEach(() => harness?.close());
};
