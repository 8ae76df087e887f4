import { expect } from 'chai';
import { decideAccess, isPublicRoute, type Principal } from '../../src/security/index.js';

const as = (role: Principal['role'], ownerId?: string): Principal => ({ keyId: 'k', role, ...(ownerId === undefined ? {} : { ownerId }) });

describe('access policy', () => {
  it('lets admins do anything, and denies every other role a route it does not list', () => {
    expect(decideAccess('GET', '/v1/anything-new', as('admin')).kind).to.equal('allowed');
    for (const role of ['customer', 'merchant', 'operator', 'auditor'] as const) {
      expect(decideAccess('GET', '/v1/anything-new', as(role, 'o')).kind, role).to.equal('denied');
      expect(decideAccess('DELETE', '/v1/accounts/1', as(role, 'o')).kind, role).to.equal('denied');
    }
  });

  it('keeps audit endpoints for auditors, statements and reconciliation for operators', () => {
    expect(decideAccess('GET', '/v1/audit/balances', as('auditor')).kind).to.equal('allowed');
    expect(decideAccess('GET', '/v1/audit/balances', as('operator')).kind).to.equal('denied');
    expect(decideAccess('POST', '/v1/statements', as('operator')).kind).to.equal('allowed');
    expect(decideAccess('GET', '/v1/reconciliation/exceptions', as('operator')).kind).to.equal('allowed');
    expect(decideAccess('POST', '/v1/statements', as('auditor')).kind).to.equal('denied');
    expect(decideAccess('POST', '/v1/statements', as('customer', 'c')).kind).to.equal('denied');
  });

  it("asks customers, not staff, for a signature on money movements, and holders to own what they name", () => {
    const customer = decideAccess('POST', '/v1/transfers', as('customer', 'c'));
    expect(customer).to.include({ kind: 'allowed', stepUp: 'always', moneyMoving: true });
    expect(decideAccess('POST', '/v1/transfers', as('merchant', 'm'))).to.include({ kind: 'allowed', stepUp: 'never' });
    expect(decideAccess('POST', '/v1/transfers', as('admin'))).to.include({ kind: 'allowed', stepUp: 'never', moneyMoving: true });
    expect(decideAccess('GET', '/v1/accounts/42/balance', as('customer', 'c'))).to.deep.include({ pathId: '42', ownership: { of: 'pathAccount' } });
    expect(decideAccess('GET', '/v1/accounts/42', as('customer')).kind, 'a holder key without an owner').to.equal('denied');
    expect(decideAccess('POST', '/v1/deposits', as('customer', 'c')).kind).to.equal('denied');
  });

  it("lets whoever may read a payment or payout read its activity, a holder only its own", () => {
    for (const kind of ['payments', 'payouts']) {
      for (const role of ['operator', 'auditor'] as const) {
        expect(decideAccess('GET', `/v1/${kind}/42/activity`, as(role)).kind, `${role} on ${kind}`).to.equal('allowed');
      }
      const activity = decideAccess('GET', `/v1/${kind}/42/activity`, as('merchant', 'm'));
      expect(activity).to.deep.include({ kind: 'allowed', pathId: '42' });
      expect(activity.kind === 'allowed' && activity.ownership?.of).to.equal('resource');
    }
  });

  it('lets a merchant act on its payment but not record a capture or settlement, which operators and callbacks do', () => {
    const merchant = as('merchant', 'm');
    for (const action of ['capture', 'settle']) {
      expect(decideAccess('POST', `/v1/payments/42/${action}`, merchant), action).to.deep.equal({ kind: 'denied' });
      expect(decideAccess('POST', `/v1/payments/42/${action}`, as('operator')), action).to.include({ kind: 'allowed' });
    }
    for (const action of ['submit', 'fail', 'refunds']) {
      const decision = decideAccess('POST', `/v1/payments/42/${action}`, merchant);
      expect(decision, action).to.include({ kind: 'allowed' });
      expect(decision, action).to.have.nested.property('ownership.of', 'resource');
    }
  });

  it('asks a holder adding a device for a signature once it has one, and staff never', () => {
    for (const role of ['customer', 'merchant'] as const) {
      expect(decideAccess('POST', '/v1/devices', as(role, 'h'))).to.include({ kind: 'allowed', stepUp: 'onceEnrolled' });
    }
    expect(decideAccess('POST', '/v1/devices', as('admin'))).to.include({ kind: 'allowed', stepUp: 'never' });
  });

  it('hands ownership checks the id the route sees: percent-decoded, or none when it cannot be decoded', () => {
    const customer = as('customer', 'c');
    expect(decideAccess('GET', '/v1/accounts/4%32/balance', customer)).to.deep.include({ pathId: '42', ownership: { of: 'pathAccount' } });
    expect(decideAccess('GET', '/v1/transfers/%34%32', customer)).to.deep.include({ pathId: '42' });
    expect(decideAccess('POST', '/v1/payments/4%32/submit', as('merchant', 'm'))).to.deep.include({ pathId: '42' });
    const undecodable = decideAccess('GET', '/v1/accounts/4%E0%A4%A/history', customer);
    expect(undecodable).to.deep.include({ kind: 'allowed', ownership: { of: 'pathAccount' } });
    expect(undecodable).to.not.have.property('pathId');
  });

  it('judges a path with one trailing slash as the route Express serves it: the same rule, money limits included', () => {
    expect(decideAccess('POST', '/v1/transfers/', as('admin'))).to.include({ kind: 'allowed', moneyMoving: true });
    expect(decideAccess('POST', '/v1/payments/42/refunds/', as('admin'))).to.include({ moneyMoving: true });
    expect(decideAccess('POST', '/v1/transfers/', as('customer', 'c'))).to.deep.equal(decideAccess('POST', '/v1/transfers', as('customer', 'c')));
    expect(decideAccess('POST', '/v1/payments/42/capture/', as('merchant', 'm')).kind).to.equal('denied');
    expect(decideAccess('GET', '/v1/accounts/42/', as('customer', 'c'))).to.deep.include({ pathId: '42', ownership: { of: 'pathAccount' } });
  });

  it('opens the UI and provider callbacks to callers without a key, nothing else', () => {
    expect(isPublicRoute('GET', '/')).to.equal(true);
    expect(isPublicRoute('GET', '/ui/js/main.js')).to.equal(true);
    expect(isPublicRoute('POST', '/v1/providers/stripe/callbacks')).to.equal(true);
    expect(isPublicRoute('POST', '/ui/x')).to.equal(false);
    expect(isPublicRoute('GET', '/v1/currencies')).to.equal(false);
    expect(isPublicRoute('POST', '/v1/providers/stripe/callbacks/x')).to.equal(false);
  });
});
