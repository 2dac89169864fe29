import { describe, expect, it } from 'vitest';
import { checkHandshake, type Handshake } from '../../src/transport/upgrade-policy.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const handshake = (headers: Record<string, string | undefined> = {}, query = '', method = 'GET'): Handshake => {
  const all: Record<string, string> = {};
  for (const [name, value] of Object.entries({ upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': KEY, ...headers })) {
    if (value !== undefined) all[name] = value;
  }
  return { method, headers: all, query: new URLSearchParams(query) };
};
const refusal = (value: Handshake) => {
  const verdict = checkHandshake(value);
  if (!('refused' in verdict)) return verdict;
  const { status, headers } = verdict.refused;
  return { status, code: (JSON.parse(String(verdict.refused.body)) as { error: { code: string } }).error.code, headers };
};

describe('checkHandshake', () => {
  it('accepts an RFC 6455 handshake and negotiates the encoding', () => {
    expect(checkHandshake(handshake())).toEqual({ encoding: 'json', protocol: '' });
    expect(checkHandshake(handshake({ upgrade: 'WebSocket' }, 'encoding=msgpack'))).toEqual({ encoding: 'msgpack', protocol: '' });
    expect(checkHandshake(handshake({ 'sec-websocket-protocol': 'sigcast.v1.msgpack' }))).toEqual({ encoding: 'msgpack', protocol: 'sigcast.v1.msgpack' });
  });

  it('refuses another method with 405 and Allow: GET', () => {
    expect(refusal(handshake({}, '', 'POST'))).toMatchObject({ status: 405, code: 'method_not_allowed', headers: { allow: 'GET', connection: 'close' } });
  });

  it.each([undefined, 'h2c', ''])('answers Upgrade %j with 426 and Upgrade: websocket', (upgrade) => {
    expect(refusal(handshake({ upgrade }))).toMatchObject({ status: 426, code: 'upgrade_required', headers: { upgrade: 'websocket' } });
  });

  it.each([undefined, '8', '12', '14', '13, 8', ' 13'])('answers version %j with 426 and Sec-WebSocket-Version: 13', (version) => {
    expect(refusal(handshake({ 'sec-websocket-version': version }))).toMatchObject({ status: 426, code: 'upgrade_required', headers: { 'sec-websocket-version': '13' } });
  });

  it.each([undefined, '', 'abc', '!!!!!!!!!!!!!!!!!!!!!!==', 'AAAAAAAAAAAAAAAAAAAAAAAA', `${KEY} `, `${KEY}==`])('refuses key %j with 400', (key) => {
    expect(refusal(handshake({ 'sec-websocket-key': key }))).toMatchObject({ status: 400, code: 'bad_request' });
  });

  it.each(['encoding=', 'encoding=json&encoding=json', 'encoding=json&encoding=msgpack', 'encoding=xml'])('refuses the query %s with 400', (query) => {
    expect(refusal(handshake({}, query))).toMatchObject({ status: 400, code: 'bad_request' });
  });
});
