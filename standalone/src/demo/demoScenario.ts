/**
 * The demo's story, decided without I/O: the cast of accounts it opens, and an endless stream of
 * steps (deposits, purchases, refunds, payments between friends, a merchant frozen for review and
 * released again, card payments through the sandbox provider). Each kind of step is an activity
 * with a weight.
 */
import { CHANNELS, DEMO_CURRENCIES, EMPLOYERS, FREEZE_REASONS, ownerIdOf, P2P_REASONS, type DemoCurrency, type DemoMerchant } from './demoCatalog.js';
import type { Random } from './demoRandom.js';

export interface CastMember {
  ownerId: string;
  name: string;
  kind: 'customer' | 'merchant';
  currency: DemoCurrency;
  merchant?: DemoMerchant;
}

export interface DemoAccount extends CastMember {
  id: string;
  frozen: boolean;
  /** What the demo believes the posted balance is, to keep most spending affordable. */
  balance: bigint;
}

export type DemoStep =
  | { kind: 'deposit'; account: DemoAccount; amount: bigint; reference: string }
  | {
      kind: 'transfer';
      from: DemoAccount;
      to: DemoAccount;
      amount: bigint;
      reference: string;
      description: string;
      metadata: Record<string, string>;
    }
  | { kind: 'payment'; customer: DemoAccount; merchant: DemoAccount; amount: bigint; description: string; customerRef: string }
  | { kind: 'freeze'; account: DemoAccount; reason: string }
  | { kind: 'unfreeze'; account: DemoAccount };

export interface DemoWorld {
  accounts: DemoAccount[];
  random: Random;
  /** Numbers references (orders, invoices) so each is unique and searchable. */
  sequence: number;
  /** Purchases that can still be refunded. */
  orders: { reference: string; customer: DemoAccount; merchant: DemoAccount; amount: bigint }[];
}

export interface DemoActivity {
  name: string;
  weight: number;
  /** The next step of this kind, or undefined when none fits the world right now. */
  plan(world: DemoWorld): DemoStep | undefined;
}

export const demoCast = (): CastMember[] =>
  DEMO_CURRENCIES.flatMap((currency) => [
    ...currency.customers.map((name): CastMember => ({ ownerId: ownerIdOf('cust', name), name, kind: 'customer', currency })),
    ...currency.merchants.map(
      (merchant): CastMember => ({ ownerId: ownerIdOf('merch', merchant.name), name: merchant.name, kind: 'merchant', currency, merchant }),
    ),
  ]);

/** Euro cents in a currency's minor units, at least one. */
export const inCurrency = (currency: DemoCurrency, euroCents: bigint): bigint => {
  const [numerator, denominator] = currency.rate;
  const amount = (euroCents * numerator) / denominator;
  return amount > 0n ? amount : 1n;
};

const nextNumber = (world: DemoWorld): string => String(++world.sequence).padStart(6, '0');

const customersOf = (world: DemoWorld, currency?: DemoCurrency) =>
  world.accounts.filter((account) => account.kind === 'customer' && (currency === undefined || account.currency === currency));

const merchantsOf = (world: DemoWorld, currency: DemoCurrency) =>
  world.accounts.filter((account) => account.kind === 'merchant' && account.currency === currency);

/** An amount the account can most likely pay, or undefined when it is nearly empty. */
const affordable = (world: DemoWorld, account: DemoAccount, wantedEuroCents: bigint): bigint | undefined => {
  const wanted = inCurrency(account.currency, wantedEuroCents);
  const cap = account.balance / 3n;
  if (cap < 1n) return undefined;
  return wanted <= cap ? wanted : world.random.bigintBetween(1n, cap);
};

/** The opening deposit of each member of the cast: a salary for customers, a float for merchants. */
export const openingDeposit = (world: DemoWorld, account: DemoAccount): DemoStep => ({
  kind: 'deposit',
  account,
  amount: inCurrency(account.currency, world.random.bigintBetween(account.kind === 'customer' ? 180_000n : 50_000n, 650_000n)),
  reference:
    account.kind === 'customer'
      ? `SALARY ${world.random.pick(EMPLOYERS)} ${account.name} ${nextNumber(world)}`
      : `Opening float ${account.name} ${nextNumber(world)}`,
});

const salary: DemoActivity = {
  name: 'salary',
  weight: 1,
  plan: (world) => {
    const account = world.random.pick(customersOf(world));
    if (account.frozen) return undefined;
    return {
      kind: 'deposit',
      account,
      amount: inCurrency(account.currency, world.random.bigintBetween(150_000n, 450_000n)),
      reference: `SALARY ${world.random.pick(EMPLOYERS)} ${account.name} ${nextNumber(world)}`,
    };
  },
};

const purchase: DemoActivity = {
  name: 'purchase',
  weight: 12,
  plan: (world) => {
    const customer = world.random.pick(customersOf(world));
    const merchant = world.random.pick(merchantsOf(world, customer.currency));
    const amount = affordable(world, customer, world.random.bigintBetween(250n, 24_999n));
    if (amount === undefined) return undefined;
    const reference = `SO-${nextNumber(world)}`;
    const goods = world.random.pick(merchant.merchant?.goods ?? ['goods']);
    return {
      kind: 'transfer',
      from: customer,
      to: merchant,
      amount,
      reference,
      description: `${merchant.name}: ${goods}`,
      metadata: {
        channel: world.random.pick(CHANNELS),
        orderId: reference,
        invoice: `INV-2026-${nextNumber(world)}`,
        customer: customer.ownerId,
        merchant: merchant.ownerId,
      },
    };
  },
};

const refund: DemoActivity = {
  name: 'refund',
  weight: 2,
  plan: (world) => {
    if (world.orders.length === 0) return undefined;
    const at = world.random.below(world.orders.length);
    const order = world.orders[at]!;
    if (order.merchant.frozen || order.merchant.balance < order.amount) return undefined;
    world.orders.splice(at, 1);
    return {
      kind: 'transfer',
      from: order.merchant,
      to: order.customer,
      amount: order.amount,
      reference: `RF-${order.reference}`,
      description: `Refund of order ${order.reference} at ${order.merchant.name}`,
      metadata: { channel: 'web', originalOrder: order.reference, reason: world.random.pick(['returned', 'damaged in transit', 'cancelled']) },
    };
  },
};

const friends: DemoActivity = {
  name: 'between friends',
  weight: 3,
  plan: (world) => {
    const from = world.random.pick(customersOf(world));
    const to = world.random.pick(customersOf(world, from.currency).filter((account) => account !== from));
    const amount = affordable(world, from, world.random.bigintBetween(500n, 15_000n));
    if (amount === undefined) return undefined;
    const reason = world.random.pick(P2P_REASONS);
    return {
      kind: 'transfer',
      from,
      to,
      amount,
      reference: `P2P-${nextNumber(world)}`,
      description: `${reason} from ${from.name} to ${to.name}`,
      metadata: { channel: 'mobile', note: reason.toLowerCase() },
    };
  },
};

/**
 * A customer pays a merchant by card through the sandbox provider: the payment is created and
 * submitted, and the provider's callbacks capture, settle or fail it later (money reaches the
 * merchant only then, so the demo does not count on it).
 */
const cardPayment: DemoActivity = {
  name: 'card payment through the sandbox',
  weight: 3,
  plan: (world) => {
    const customer = world.random.pick(customersOf(world));
    const merchant = world.random.pick(merchantsOf(world, customer.currency));
    if (merchant.frozen) return undefined;
    const goods = world.random.pick(merchant.merchant?.goods ?? ['goods']);
    return {
      kind: 'payment',
      customer,
      merchant,
      amount: inCurrency(customer.currency, world.random.bigintBetween(300n, 19_999n)),
      description: `${merchant.name}: ${goods} (card)`,
      customerRef: `${customer.ownerId}-${nextNumber(world)}`,
    };
  },
};

/** A merchant is frozen for review now and then, so purchases from it fail and are reversed. */
const review: DemoActivity = {
  name: 'merchant review',
  weight: 0.3,
  plan: (world) => {
    const merchants = world.accounts.filter((account) => account.kind === 'merchant');
    const frozen = merchants.find((account) => account.frozen);
    if (frozen !== undefined) return { kind: 'unfreeze', account: frozen };
    return { kind: 'freeze', account: world.random.pick(merchants), reason: world.random.pick(FREEZE_REASONS) };
  },
};

export const demoActivities: readonly DemoActivity[] = [salary, purchase, refund, friends, cardPayment, review];

/** The next step of the story: an activity drawn by weight, until one has a step that fits. */
export const nextStep = (world: DemoWorld, activities: readonly DemoActivity[] = demoActivities): DemoStep => {
  const total = activities.reduce((sum, activity) => sum + activity.weight, 0);
  for (;;) {
    let draw = world.random.next() * total;
    const activity = activities.find((candidate) => (draw -= candidate.weight) < 0) ?? activities.at(-1)!;
    const step = activity.plan(world);
    if (step !== undefined) return step;
  }
};

/** What the demo learns from the answer to a step it took. */
export const settle = (world: DemoWorld, step: DemoStep, outcome: 'completed' | 'failed' | 'refused' | 'done'): void => {
  switch (step.kind) {
    case 'deposit':
      if (outcome === 'completed') step.account.balance += step.amount;
      return;
    case 'transfer':
      if (outcome !== 'completed') return;
      step.from.balance -= step.amount;
      step.to.balance += step.amount;
      if (step.reference.startsWith('SO-')) world.orders.push({ reference: step.reference, customer: step.from, merchant: step.to, amount: step.amount });
      if (world.orders.length > 200) world.orders.shift();
      return;
    case 'payment':
      return;
    case 'freeze':
      if (outcome === 'done') step.account.frozen = true;
      return;
    case 'unfreeze':
      if (outcome === 'done') step.account.frozen = false;
  }
};
