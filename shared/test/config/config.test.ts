import { expect } from 'chai';
import { loadConfig, ValidationError } from '../../src/index.js';

describe('configuration', () => {
  describe('FOLIO_REFUND_RETRY_SECONDS', () => {
    it('asks the provider again about an unanswered refund after 60 seconds by default', () => {
      expect(loadConfig({}).refundRetryMs).to.equal(60_000);
    });

    it('takes seconds, fractions included, as milliseconds', () => {
      expect(loadConfig({ FOLIO_REFUND_RETRY_SECONDS: '300' }).refundRetryMs).to.equal(300_000);
      expect(loadConfig({ FOLIO_REFUND_RETRY_SECONDS: '0.5' }).refundRetryMs).to.equal(500);
    });

    for (const value of ['0', '-5', 'soon']) {
      it(`stops start-up naming the variable for ${JSON.stringify(value)}`, () => {
        expect(() => loadConfig({ FOLIO_REFUND_RETRY_SECONDS: value }))
          .to.throw(ValidationError)
          .with.property('message')
          .that.contains('FOLIO_REFUND_RETRY_SECONDS');
      });
    }
  });

  describe('FOLIO_READY_MAX_FAILING_SECONDS', () => {
    it('lets a projection fail for 15 s before /readyz answers 503, by default, and takes seconds', () => {
      expect(loadConfig({}).readyMaxFailingSeconds).to.equal(15);
      expect(loadConfig({ FOLIO_READY_MAX_FAILING_SECONDS: '2.5' }).readyMaxFailingSeconds).to.equal(2.5);
    });

    it('stops start-up naming the variable when it is not a positive number', () => {
      expect(() => loadConfig({ FOLIO_READY_MAX_FAILING_SECONDS: '0' }))
        .to.throw(ValidationError)
        .with.property('message')
        .that.contains('FOLIO_READY_MAX_FAILING_SECONDS');
    });
  });

  describe('how long EventStoreDB and Elasticsearch may stay silent', () => {
    it('waits 10 s for a read or a write, 30 s for a quiet subscription and an Elasticsearch request, by default', () => {
      const config = loadConfig({});
      expect(config.eventStoreTimeouts).to.deep.equal({ readIdleMs: 10_000, writeMs: 10_000, subscriptionIdleMs: 30_000 });
      expect(config.elasticRequestTimeoutMs).to.equal(30_000);
    });

    it('takes each in seconds', () => {
      const config = loadConfig({
        FOLIO_EVENTSTORE_READ_IDLE_SECONDS: '20',
        FOLIO_EVENTSTORE_WRITE_TIMEOUT_SECONDS: '2.5',
        FOLIO_EVENTSTORE_SUBSCRIPTION_IDLE_SECONDS: '60',
        FOLIO_ELASTIC_REQUEST_TIMEOUT_SECONDS: '90',
      });
      expect(config.eventStoreTimeouts).to.deep.equal({ readIdleMs: 20_000, writeMs: 2_500, subscriptionIdleMs: 60_000 });
      expect(config.elasticRequestTimeoutMs).to.equal(90_000);
    });

    for (const variable of ['FOLIO_EVENTSTORE_WRITE_TIMEOUT_SECONDS', 'FOLIO_ELASTIC_REQUEST_TIMEOUT_SECONDS']) {
      it(`stops start-up naming ${variable} when it is not a positive number`, () => {
        expect(() => loadConfig({ [variable]: '0' }))
          .to.throw(ValidationError)
          .with.property('message')
          .that.contains(variable);
      });
    }
  });
});
