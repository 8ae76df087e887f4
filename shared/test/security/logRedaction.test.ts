import { expect } from 'chai';
import { createLogger, generateApiKey, loadConfig } from '../../src/index.js';
import { capturedLog } from '../../src/testing/index.js';

describe('logs never carry credentials', () => {
  it('redacts API keys wherever they are logged: headers, tokens, the configuration', () => {
    const { text, destination } = capturedLog();
    const logger = createLogger({ service: 'folio', destination });
    // The secret is base64url, so it may hold '_' itself: it is taken whole, not split out of the token.
    const { token: key, secret } = generateApiKey();
    const config = loadConfig({ FOLIO_BOOTSTRAP_ADMIN_KEY: key, FOLIO_DATA_DIR: '/tmp/x' });
    logger.info({ token: key, config, bootstrapAdminKey: key }, 'key created');
    logger.info({ request: { headers: { authorization: `Bearer ${key}` } }, headers: { authorization: `Bearer ${key}` } }, 'request');
    logger.info({ env: { FOLIO_BOOTSTRAP_ADMIN_KEY: key } }, 'environment');
    expect(text.join('')).to.not.contain(secret);
    expect(text.join('')).to.contain('[redacted]');
  });
});
