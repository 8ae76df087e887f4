import { expect } from 'chai';
import { redactCredentials } from '../../src/config/redactCredentials.js';

describe('credentials in connection strings', () => {
  it('keeps the user and hides the password of every URL in a text', () => {
    expect(redactCredentials('Protocol and host list are required in "mongodb://folio:s3cret@"')).to.equal(
      'Protocol and host list are required in "mongodb://folio:[redacted]@"',
    );
    expect(redactCredentials('esdb://admin:changeit@node1:2113,node2:2113/?tls=false and https://elastic:pa%40ss@es:9200/x')).to.equal(
      'esdb://admin:[redacted]@node1:2113,node2:2113/?tls=false and https://elastic:[redacted]@es:9200/x',
    );
  });

  it('hides a user given without a password, which may be a token, and a password holding an unescaped @', () => {
    expect(redactCredentials('https://ghp_token123@es:9200')).to.equal('https://[redacted]@es:9200');
    expect(redactCredentials('mongodb://folio:p@ss@db:27017')).to.equal('mongodb://folio:[redacted]@db:27017');
  });

  it('leaves a text without credentials as it is', () => {
    for (const text of ['connect ECONNREFUSED 127.0.0.1:2113', 'http://es.internal:9200/_search?q=a@b', 'mail ops@example.com']) {
      expect(redactCredentials(text)).to.equal(text);
    }
  });
});
