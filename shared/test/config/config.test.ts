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
});
