// A throwaway test CA and a server certificate it signed, for Redis over TLS: made once per test
// process with the openssl CLI, in a temp dir removed at exit.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { scratchDir } from './leftovers.js';

export interface TestCertificates {
  /** PEM of the test CA (what REDIS_TLS_CA_FILE points to). */
  readonly caFile: string;
  readonly caPem: string;
  /** Server certificate (SAN IP:127.0.0.1, DNS:localhost) and its key, signed by the test CA. */
  readonly certFile: string;
  readonly keyFile: string;
  /** PEM of another CA, which signed nothing here: a valid bundle that must not be trusted. */
  readonly otherCaFile: string;
}

const OPENSSL_CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = sigcast test
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

let certificates: Promise<TestCertificates> | undefined;

/** The test CA and the server certificate signed by it (made on the first call). */
export function testCertificates(): Promise<TestCertificates> {
  certificates ??= makeCertificates();
  return certificates;
}

async function makeCertificates(): Promise<TestCertificates> {
  const dir = scratchDir();
  const file = (name: string) => join(dir, name);
  writeFileSync(file('openssl.cnf'), OPENSSL_CONFIG);
  const openssl = (...args: string[]) => promisify(execFile)('openssl', args, { cwd: dir });
  // EC keys: generated in milliseconds, where RSA takes a noticeable part of a second.
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = (name: string) =>
    openssl('req', '-x509', '-config', 'openssl.cnf', '-extensions', 'ca', ...newKey, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=sigcast test ${name}`);
  await Promise.all([
    ca('ca'),
    ca('other-ca'),
    openssl('req', '-new', '-config', 'openssl.cnf', ...newKey, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'),
  ]);
  await openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', String(Date.now()), '-days', '2', '-extfile', 'openssl.cnf', '-extensions', 'server', '-out', 'server.pem');
  return {
    caFile: file('ca.pem'),
    caPem: readFileSync(file('ca.pem'), 'utf8'),
    certFile: file('server.pem'),
    keyFile: file('server.key'),
    otherCaFile: file('other-ca.pem'),
  };
}
