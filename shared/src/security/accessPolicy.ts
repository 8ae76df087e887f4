/**
 * Who may call what, in one table. Every route is listed; anything not listed is for admins only,
 * so an endpoint added later is closed until it is given a rule here. Customers and merchants
 * ("holders") act on their own accounts only: a rule says how a request names the accounts it
 * touches, and the security middleware checks each of them belongs to the caller.
 */
import { MAX_BATCH_BODY_BYTES, MAX_BATCH_TRANSFERS } from '../http/wireSchemas.js';
import type { Principal, Role } from './principal.js';

/** How a holder's request names the accounts it acts on. */
export type Ownership =
  /** `:id` in the path is an account id. */
  | { of: 'pathAccount' }
  /** Accounts named in the JSON body. */
  | { of: 'bodyAccounts'; accounts: (body: Record<string, unknown>) => unknown[] }
  /** Opening an account: for the holder itself, of the holder's kind, without an overdraft (credit is staff's to grant). */
  | { of: 'newAccount' }
  /**
   * `:id` names a resource whose stream's first event names its accounts. With `inTransit`, it is
   * a movement, whose own stream is written only when it ends: between its legs it is looked up
   * among the movements in transit.
   */
  | { of: 'resource'; streams: (id: string) => string[]; inTransit?: true }
  /** The handler itself narrows what it answers to the holder's accounts. */
  | { of: 'scoped' }
  /** Nothing to own: the request concerns the caller only. */
  | { of: 'self' };

interface RouteRule {
  methods: readonly string[] | 'any';
  path: RegExp;
  /** Callers without a key reach it (the UI's files; provider callbacks, signed by the provider). */
  public?: true;
  /** Roles besides admin that may call it. */
  staff?: readonly Role[];
  holders?: { roles: readonly Role[]; owns: Ownership };
  /** Moves money: stricter rate limits, and a device signature from customers. */
  moneyMoving?: true;
  /** How many money movements the body carries, each a token of the key's money bucket (one when absent). */
  movementsIn?: (body: Record<string, unknown>) => number;
  /** Adds a signing device: a holder that has one signs with it, so a bearer key alone cannot add its own. */
  enrolsDevice?: true;
  /** For a body the middleware reads to check ownership (the route reads it again). */
  bodyLimit?: number;
}

const READERS: readonly Role[] = ['operator', 'auditor'];
const HOLDERS: readonly Role[] = ['customer', 'merchant'];
const ID = '([^/]+)';
const movementStreams = (id: string) => [`transfer-${id}`, `deposit-${id}`, `payout-${id}`, `payment-${id}`];

const rules: readonly RouteRule[] = [
  { methods: ['GET', 'HEAD'], path: /^\/$/, public: true },
  { methods: ['GET', 'HEAD'], path: /^\/ui(\/.*)?$/, public: true },
  { methods: ['POST'], path: /^\/v1\/providers\/[^/]+\/callbacks$/, public: true },

  { methods: ['POST'], path: /^\/v1\/accounts$/, holders: { roles: HOLDERS, owns: { of: 'newAccount' } } },
  { methods: ['POST'], path: /^\/v1\/accounts\/[^/]+\/(freeze|unfreeze|close)$/, staff: ['operator'] },
  {
    methods: ['GET', 'HEAD'],
    path: new RegExp(`^/v1/accounts/${ID}(/history|/balance|/balance-points)?$`),
    staff: READERS,
    holders: { roles: HOLDERS, owns: { of: 'pathAccount' } },
  },
  {
    methods: ['POST'],
    path: /^\/v1\/transfers$/,
    holders: { roles: HOLDERS, owns: { of: 'bodyAccounts', accounts: (body) => [body.fromAccountId] } },
    moneyMoving: true,
  },
  {
    methods: ['POST'],
    path: /^\/v1\/transfers\/batch$/,
    holders: {
      roles: HOLDERS,
      owns: {
        of: 'bodyAccounts',
        accounts: (body) =>
          Array.isArray(body.transfers)
            ? body.transfers.map((item: unknown) => (typeof item === 'object' && item !== null ? (item as Record<string, unknown>).fromAccountId : item))
            : [],
      },
    },
    moneyMoving: true,
    // A body without a list of transfers, or with more than a batch may carry, is the route's 400
    // to answer, and costs one: a refused request must not spend a token per transfer.
    movementsIn: (body) => (Array.isArray(body.transfers) && body.transfers.length <= MAX_BATCH_TRANSFERS ? Math.max(1, body.transfers.length) : 1),
    bodyLimit: MAX_BATCH_BODY_BYTES,
  },
  {
    methods: ['GET', 'HEAD'],
    // A payment's or payout's activity is read with it (the payment page shows both).
    path: new RegExp(`^/v1/(?:transfers|deposits|payouts|payments)/${ID}(?:/activity)?$`),
    staff: READERS,
    holders: { roles: HOLDERS, owns: { of: 'resource', streams: movementStreams, inTransit: true } },
  },
  { methods: ['POST'], path: /^\/v1\/deposits$/, staff: ['operator'], moneyMoving: true },
  {
    methods: ['POST'],
    path: /^\/v1\/payments$/,
    holders: { roles: ['merchant'], owns: { of: 'bodyAccounts', accounts: (body) => [body.merchantAccountId] } },
  },
  {
    methods: ['POST'],
    path: new RegExp(`^/v1/payments/${ID}/refunds$`),
    staff: ['operator'],
    holders: { roles: ['merchant'], owns: { of: 'resource', streams: (id) => [`payment-${id}`] } },
    moneyMoving: true,
  },
  {
    methods: ['POST'],
    // A capture or a settlement says what the provider did with money it holds, and books it
    // (clearing to the merchant; the fee): the provider's signed callbacks or an operator say so,
    // never the merchant the money would go to.
    path: new RegExp(`^/v1/payments/${ID}/(?:capture|settle)$`),
    staff: ['operator'],
  },
  {
    methods: ['POST'],
    path: new RegExp(`^/v1/payments/${ID}/[^/]+$`),
    staff: ['operator'],
    holders: { roles: ['merchant'], owns: { of: 'resource', streams: (id) => [`payment-${id}`] } },
  },
  { methods: ['GET', 'HEAD'], path: /^\/v1\/payments$/, staff: READERS },
  {
    methods: ['POST'],
    path: /^\/v1\/payouts$/,
    holders: { roles: HOLDERS, owns: { of: 'bodyAccounts', accounts: (body) => [body.accountId] } },
    moneyMoving: true,
  },
  { methods: ['GET', 'HEAD'], path: /^\/v1\/providers\/[^/]+\/sandbox\/(settlement-report|bank-statement)$/, staff: ['operator'] },
  { methods: ['GET', 'HEAD'], path: /^\/v1\/operations\/[^/]+$/, staff: READERS },
  { methods: ['POST'], path: /^\/v1\/devices$/, holders: { roles: HOLDERS, owns: { of: 'self' } }, enrolsDevice: true },
  // The route answers another holder's device as a missing one.
  { methods: ['POST'], path: /^\/v1\/devices\/[^/]+\/revoke$/, holders: { roles: HOLDERS, owns: { of: 'self' } } },
  {
    methods: ['GET', 'HEAD'],
    path: /^\/v1\/transactions(\/[^/]+)?$/,
    staff: READERS,
    holders: { roles: HOLDERS, owns: { of: 'scoped' } },
  },
  { methods: ['GET', 'HEAD'], path: /^\/v1\/currencies$/, staff: READERS, holders: { roles: HOLDERS, owns: { of: 'self' } } },
  { methods: ['GET', 'HEAD'], path: /^\/v1\/projections$/, staff: READERS },
  { methods: ['GET', 'HEAD'], path: /^\/metrics$/, staff: READERS },
  { methods: 'any', path: /^\/v1\/audit(\/.*)?$/, staff: ['auditor'] },
  { methods: 'any', path: /^\/v1\/(statements|reconciliation)(\/.*)?$/, staff: ['operator'] },
];

/**
 * When a request must carry a device signature: `always` (a customer's money movement), or
 * `onceEnrolled` (a holder adding a device once it has one).
 */
export type StepUp = 'always' | 'onceEnrolled' | 'never';

export type AccessDecision =
  | { kind: 'public' }
  | { kind: 'denied' }
  | {
      kind: 'allowed';
      /** Set for holders: what they must own. */
      ownership?: Ownership;
      /**
       * The `:id` the path names as the route sees it (percent-decoded), for ownership checks;
       * absent when it cannot be decoded.
       */
      pathId?: string;
      moneyMoving: boolean;
      /** Set when the body says how many money movements the request makes. */
      movementsIn?: (body: Record<string, unknown>) => number;
      stepUp: StepUp;
      bodyLimit?: number;
    };

/**
 * A path segment as Express hands it to the route: percent-decoded. Judging the raw segment would
 * let `%34` for `4` pass as "not an account id" while the route serves the account.
 */
const routeParam = (segment: string | undefined): string | undefined => {
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
};

/**
 * Express routes a path whatever its case: a rule matched case-sensitively would let
 * `/v1/payments/:id/Capture` miss the capture rule, fall to a broader one, and still reach the
 * capture route. The policy judges the route Express will pick.
 */
const routeRules: readonly RouteRule[] = rules.map((rule) => ({ ...rule, path: new RegExp(rule.path.source, `${rule.path.flags}i`) }));

/** Express routes a path with one trailing slash as the path without it, and so is it judged. */
const routedPath = (path: string): string => (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path);

const ruleFor = (method: string, path: string): { rule: RouteRule; pathId: string | undefined } | undefined => {
  const routed = routedPath(path);
  for (const rule of routeRules) {
    if (rule.methods !== 'any' && !rule.methods.includes(method)) continue;
    const match = rule.path.exec(routed);
    if (match !== null) return { rule, pathId: routeParam(match[1]) };
  }
  return undefined;
};

const stepUpFor = (rule: RouteRule, principal: Principal): StepUp => {
  if (rule.moneyMoving === true && principal.role === 'customer') return 'always';
  return rule.enrolsDevice === true ? 'onceEnrolled' : 'never';
};

/** Whether `method path` is reachable without a key. */
export const isPublicRoute = (method: string, path: string): boolean => ruleFor(method, path)?.rule.public === true;

/** What `principal` may do with `method path`. Pure: ownership itself is checked by the caller. */
export const decideAccess = (method: string, path: string, principal: Principal): AccessDecision => {
  const found = ruleFor(method, path);
  if (found?.rule.public === true) return { kind: 'public' };
  const moneyMoving = found?.rule.moneyMoving === true;
  const common = {
    moneyMoving,
    ...(found?.pathId === undefined ? {} : { pathId: found.pathId }),
    ...(found?.rule.bodyLimit === undefined ? {} : { bodyLimit: found.rule.bodyLimit }),
    ...(found?.rule.movementsIn === undefined ? {} : { movementsIn: found.rule.movementsIn }),
  };
  if (principal.role === 'admin') return { kind: 'allowed', ...common, stepUp: 'never' };
  if (found === undefined) return { kind: 'denied' };
  const { rule } = found;
  if (rule.staff?.includes(principal.role) === true) return { kind: 'allowed', ...common, stepUp: 'never' };
  if (rule.holders?.roles.includes(principal.role) === true && principal.ownerId !== undefined) {
    return { kind: 'allowed', ...common, ownership: rule.holders.owns, stepUp: stepUpFor(rule, principal) };
  }
  return { kind: 'denied' };
};
