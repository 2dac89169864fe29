import { describe, expect, it } from 'vitest';
import { negotiateEncoding } from '../../src/transport/negotiate.js';

describe('negotiateEncoding', () => {
  it('defaults to JSON with no subprotocol', () => {
    expect(negotiateEncoding(undefined, undefined)).toEqual({ encoding: 'json', protocol: '' });
    expect(negotiateEncoding('', '')).toEqual({ encoding: 'json', protocol: '' });
  });

  it('takes the query parameter', () => {
    expect(negotiateEncoding('msgpack', undefined)).toEqual({ encoding: 'msgpack', protocol: '' });
    expect(negotiateEncoding('xml', undefined)).toEqual({ error: expect.stringContaining('json or msgpack') });
  });

  it('picks the first supported subprotocol offered, consistent with the query', () => {
    expect(negotiateEncoding(undefined, 'chat, sigcast.v1.msgpack, sigcast.v1.json')).toEqual({ encoding: 'msgpack', protocol: 'sigcast.v1.msgpack' });
    expect(negotiateEncoding('json', 'sigcast.v1.msgpack, sigcast.v1.json')).toEqual({ encoding: 'json', protocol: 'sigcast.v1.json' });
    expect(negotiateEncoding(undefined, 'chat')).toEqual({ error: expect.stringContaining('sigcast.v1.json') });
  });
});
