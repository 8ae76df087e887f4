import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate authority of its own and a node certificate it signed, as PEM. */
export interface NodeCertificates {
  caCertificate: string;
  nodeCertificate: string;
  nodeKey: string;
}

/**
 * A CA and a node certificate it signed for 127.0.0.1 and localhost, as a secured Elasticsearch
 * serves HTTPS out of the box: made by `openssl` for each run (P-256 keys, valid two days), so
 * no key is kept anywhere.
 */
export const createNodeCertificates = (): NodeCertificates => {
  const directory = mkdtempSync(join(tmpdir(), 'folio-test-ca-'));
  const file = (name: string) => join(directory, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    openssl('req', '-x509', ...newKey, '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '2', '-subj', '/CN=Folio test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
    openssl('req', ...newKey, '-keyout', file('node.key'), '-out', file('node.csr'), '-subj', '/CN=localhost');
    writeFileSync(file('node.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
    openssl('x509', '-req', '-in', file('node.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial',
      '-out', file('node.crt'), '-days', '2', '-extfile', file('node.ext'));
    return {
      caCertificate: readFileSync(file('ca.crt'), 'utf8'),
      nodeCertificate: readFileSync(file('node.crt'), 'utf8'),
      nodeKey: readFileSync(file('node.key'), 'utf8'),
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
};

/** A local node answering every request as a cluster without the index would, keeping each request's headers. */
export interface LocalElasticsearchNode {
  url: string;
  received: IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** Over HTTPS when given certificates. */
export const startLocalElasticsearchNode = async ({ https }: { https?: NodeCertificates }): Promise<LocalElasticsearchNode> => {
  const received: IncomingHttpHeaders[] = [];
  const answer = (request: IncomingMessage, response: ServerResponse): void => {
    received.push(request.headers);
    response.writeHead(404, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
    response.end(JSON.stringify({ error: { type: 'index_not_found_exception', reason: 'no such index' }, status: 404 }));
  };
  const server = https === undefined ? createHttpServer(answer) : createHttpsServer({ cert: https.nodeCertificate, key: https.nodeKey }, answer);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${https === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    received,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
};
