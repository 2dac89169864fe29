import { describe, expect, it } from 'vitest';
import { hostOfHeader, isLoopbackAddress, isLoopbackHost } from '../../src/util/loopback.js';

describe('loopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.3.4', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['0.0.0.0', false],
    ['::', false],
    ['localhost', false],
  ])('address %s: %s', (address, expected) => {
    expect(isLoopbackAddress(address)).toBe(expected);
  });

  it.each([
    ['localhost', true],
    ['LOCALHOST.', true],
    ['app.localhost', true],
    ['[::1]', true],
    ['127.0.0.1', true],
    ['0.0.0.0', false],
    ['evil.example', false],
    ['localhost.evil.example', false],
    ['127.0.0.1.nip.io', false],
  ])('host %s: %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });

  it.each([
    ['localhost:8080', 'localhost'],
    ['127.0.0.1', '127.0.0.1'],
    ['[::1]:8080', '::1'],
    ['[::1]', '::1'],
    ['evil.example:80', 'evil.example'],
    ['::1', '::1'],
  ])('Host header %s names %s', (header, host) => {
    expect(hostOfHeader(header)).toBe(host);
  });
});
