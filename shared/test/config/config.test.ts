import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createLogger, generateApiKey, loadConfig, ValidationError } from '../../src/index.js';
import { capturedLog } from '../../src/testing/index.js';
import { createNodeCertificates } from '../search/localElasticsearchNode.js';

const refusalOf = (environment: NodeJS.ProcessEnv): string => {
  try {
    loadConfig(environment);
  } catch (error) {
    expect(error).to.be.instanceOf(ValidationError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
};

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

  describe('FOLIO_TRUST_PROXY', () => {
    it('trusts no proxy by default, so a client cannot name its own address', () => {
      expect(loadConfig({}).trustProxy).to.equal(false);
    });

    it('takes a hop count, or the addresses and subnets of the proxies in front', () => {
      expect(loadConfig({ FOLIO_TRUST_PROXY: '1' }).trustProxy).to.equal(1);
      expect(loadConfig({ FOLIO_TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::/8' }).trustProxy).to.equal('loopback,10.0.0.0/8,fd00::/8');
      expect(loadConfig({ FOLIO_TRUST_PROXY: 'false' }).trustProxy).to.equal(false);
    });

    for (const value of ['true', 'proxy.internal', '10.0.0.0/33', '-1']) {
      it(`stops start-up naming the variable for ${JSON.stringify(value)}`, () => {
        expect(refusalOf({ FOLIO_TRUST_PROXY: value })).to.contain('FOLIO_TRUST_PROXY');
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

  describe('FOLIO_SHUTDOWN_DELAY_SECONDS', () => {
    it('stops accepting connections as soon as signalled, by default, and takes seconds', () => {
      expect(loadConfig({}).shutdownDelayMs).to.equal(0);
      expect(loadConfig({ FOLIO_SHUTDOWN_DELAY_SECONDS: '7.5' }).shutdownDelayMs).to.equal(7_500);
    });

    it('stops start-up naming the variable when it is negative or not a number', () => {
      for (const value of ['-1', 'soon']) {
        expect(() => loadConfig({ FOLIO_SHUTDOWN_DELAY_SECONDS: value }), value)
          .to.throw(ValidationError)
          .with.property('message')
          .that.contains('FOLIO_SHUTDOWN_DELAY_SECONDS');
      }
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

    it('stops start-up when a write may wait 20 s or more, past the margin an idempotency claim leaves its run', () => {
      expect(() => loadConfig({ FOLIO_EVENTSTORE_WRITE_TIMEOUT_SECONDS: '20' }))
        .to.throw(ValidationError)
        .with.property('message')
        .that.contains('FOLIO_EVENTSTORE_WRITE_TIMEOUT_SECONDS')
        .and.contains('below 20');
      expect(loadConfig({ FOLIO_EVENTSTORE_WRITE_TIMEOUT_SECONDS: '19.5' }).eventStoreTimeouts.writeMs).to.equal(19_500);
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

  describe('secrets in the configuration', () => {
    const password = 's3cret-Pa55word';
    const providerSecret = 'whsec_0123456789abcdef';

    for (const [variable, value, what] of [
      ['EVENTSTORE_URL', `esdb://admin:${password}@[node1]:2113`, 'esdb://'],
      ['EVENTSTORE_URL', `https://admin:${password}@node1:2113`, 'esdb://'],
      ['EVENTSTORE_URL', `esdb://admin:${password}@node1:2113?tls=maybe`, 'esdb://'],
      ['MONGO_URL', `mongodb://folio:${password}@`, 'mongodb://'],
      ['MONGO_URL', `postgres://folio:${password}@db:5432`, 'mongodb://'],
      ['ELASTIC_URL', `https://elastic:${password}@[es`, 'https://'],
      ['ELASTIC_URL', `ftp://elastic:${password}@es:9200`, 'https://'],
    ] as const) {
      it(`stops start-up naming ${variable} when it is not a connection string (${value.replace(password, '…')}), without echoing its password`, () => {
        const message = refusalOf({ [variable]: value });
        expect(message).to.contain(variable).and.contain(what);
        expect(message).to.not.contain(password);
      });
    }

    it('stops start-up naming a provider secret that is too short, without echoing it', () => {
      const message = refusalOf({ FOLIO_PROVIDER_SECRET_STRIPE: 'whsec_short' });
      expect(message).to.contain('FOLIO_PROVIDER_SECRET_STRIPE');
      expect(message).to.not.contain('whsec_short');
    });

    it('never lets a password, a provider secret or the admin key reach a log line, however the configuration is logged', () => {
      const { text, destination } = capturedLog();
      const logger = createLogger({ service: 'folio', destination });
      const { token: adminKey } = generateApiKey();
      const environment = {
        EVENTSTORE_URL: `esdb://admin:${password}@node1:2113?tls=false`,
        MONGO_URL: `mongodb://folio:${password}@db:27017/?replicaSet=rs0`,
        ELASTIC_URL: `https://elastic:${password}@es.internal:9200`,
        FOLIO_PROVIDER_SECRET_STRIPE: providerSecret,
        FOLIO_BOOTSTRAP_ADMIN_KEY: adminKey,
      };
      const config = loadConfig(environment);
      logger.info({ config }, 'configuration');
      logger.info(config, 'configuration');
      logger.info({ search: { elasticsearch: config } }, 'configuration');
      expect(text).to.have.length(3);
      const logged = text.join('');
      for (const secret of [password, providerSecret, adminKey]) expect(logged).to.not.contain(secret);
      // Where the configuration is logged whole, it still says which servers it uses.
      expect(logged).to.contain('https://elastic:[redacted]@es.internal:9200');
      // What connects and verifies reads the values as given.
      expect(config.eventStoreUrl).to.equal(environment.EVENTSTORE_URL);
      expect(config.mongoUrl).to.equal(environment.MONGO_URL);
      expect(config.elasticUrl).to.equal(environment.ELASTIC_URL);
      expect(config.providerSecrets.stripe).to.equal(providerSecret);
      expect(config.bootstrapAdminKey).to.equal(adminKey);
    });
  });

  describe('connecting to a secured Elasticsearch', () => {
    const secured = 'https://es.internal:9200';
    // The `encoded` value of Elasticsearch's create API key answer: base64 of `<id>:<api_key>`.
    const apiKey = Buffer.from('VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw').toString('base64');
    let directory: string;
    let caFile: string;
    let caCertificate: string;

    before(() => {
      directory = mkdtempSync(join(tmpdir(), 'folio-config-'));
      caFile = join(directory, 'http_ca.crt');
      ({ caCertificate } = createNodeCertificates());
      writeFileSync(caFile, caCertificate);
    });

    after(() => {
      rmSync(directory, { recursive: true, force: true });
    });

    it('uses neither credentials nor a CA of its own by default', () => {
      const config = loadConfig({ ELASTIC_URL: secured });
      expect(config.elasticAuth).to.equal(undefined);
      expect(config.elasticCa).to.equal(undefined);
    });

    it('takes an encoded API key and a CA file read at start-up', () => {
      const config = loadConfig({ ELASTIC_URL: secured, ELASTIC_API_KEY: apiKey, ELASTIC_CA_FILE: caFile });
      expect(config.elasticAuth).to.deep.equal({ apiKey });
      expect(config.elasticCa).to.equal(caCertificate);
    });

    it('stops start-up naming ELASTIC_API_KEY when it is not an encoded API key', () => {
      // The `api_key` field alone, or `<id>:<api_key>` not encoded, are what gets pasted by mistake.
      const mistakes = ['ui2lp2axTNmsyakw9tvNnw', 'VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw', Buffer.from('no-colon').toString('base64')];
      for (const value of mistakes) {
        expect(refusalOf({ ELASTIC_URL: secured, ELASTIC_API_KEY: value }), value).to.contain('ELASTIC_API_KEY').and.contain('encoded');
      }
    });

    it('stops start-up when both an API key and a user in ELASTIC_URL are given, as it cannot tell which to use', () => {
      const message = refusalOf({ ELASTIC_URL: 'https://folio:secret@es.internal:9200', ELASTIC_API_KEY: apiKey });
      expect(message).to.contain('ELASTIC_API_KEY').and.contain('ELASTIC_URL');
      expect(message).to.not.contain('secret');
    });

    it('stops start-up naming ELASTIC_CA_FILE when the file cannot be read or holds no PEM certificate', () => {
      expect(refusalOf({ ELASTIC_URL: secured, ELASTIC_CA_FILE: join(directory, 'missing.crt') }))
        .to.contain('ELASTIC_CA_FILE')
        .and.contain('cannot read');
      const notPem = join(directory, 'http_ca.p12');
      writeFileSync(notPem, Buffer.from([0x30, 0x82, 0x01, 0x00]));
      expect(refusalOf({ ELASTIC_URL: secured, ELASTIC_CA_FILE: notPem }))
        .to.contain('ELASTIC_CA_FILE')
        .and.contain('PEM');
      const brokenPem = join(directory, 'broken.crt');
      writeFileSync(brokenPem, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
      expect(refusalOf({ ELASTIC_URL: secured, ELASTIC_CA_FILE: brokenPem }))
        .to.contain('ELASTIC_CA_FILE')
        .and.contain('PEM');
    });

    it('stops start-up when a CA is given for an http ELASTIC_URL, which no certificate secures', () => {
      expect(refusalOf({ ELASTIC_URL: 'http://es.internal:9200', ELASTIC_CA_FILE: caFile }))
        .to.contain('ELASTIC_CA_FILE')
        .and.contain('https');
    });

    it('stops start-up when the Elasticsearch variables are given without ELASTIC_URL, rather than use the embedded index', () => {
      const variables = [['ELASTIC_API_KEY', apiKey], ['ELASTIC_CA_FILE', caFile]] as const;
      for (const [variable, value] of variables) {
        expect(refusalOf({ [variable]: value }), variable).to.contain(variable).and.contain('ELASTIC_URL');
      }
    });

    it('never lets the API key reach a log line, however the configuration is logged', () => {
      const { text, destination } = capturedLog();
      const logger = createLogger({ service: 'folio', destination });
      const config = loadConfig({ ELASTIC_URL: secured, ELASTIC_API_KEY: apiKey });
      logger.info({ config }, 'configuration');
      logger.info(config, 'configuration');
      logger.info({ search: { elasticsearch: config } }, 'configuration');
      expect(text).to.have.length(3);
      expect(text.join('')).to.not.contain(apiKey);
    });
  });
});
