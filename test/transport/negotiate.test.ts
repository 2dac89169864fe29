import { describe, expect, it } from 'vitest';
import { negotiateEncoding } from '../../src/transport/negotiate.js';

describe('negotiateEncoding', () => {
  it('defaults to JSON with no parameter and no subprotocol', () => {
    expect(negotiateEncoding([], undefined)).toEqual({ encoding: 'json', protocol: '' });
    expect(negotiateEncoding([], '')).toEqual({ encoding: 'json', protocol: '' });
  });

  it('takes the query parameter', () => {
    expect(negotiateEncoding(['msgpack'], undefined)).toEqual({ encoding: 'msgpack', protocol: '' });
    expect(negotiateEncoding(['xml'], undefined)).toEqual({ error: expect.stringContaining('json or msgpack') });
  });

  it('refuses an empty or repeated encoding instead of picking one', () => {
    expect(negotiateEncoding([''], undefined)).toEqual({ error: expect.stringContaining('json or msgpack') });
    expect(negotiateEncoding(['json', 'msgpack'], undefined)).toEqual({ error: 'encoding may be given once' });
    expect(negotiateEncoding(['json', 'json'], undefined)).toEqual({ error: 'encoding may be given once' });
  });

  it('does not echo a long encoding', () => {
    const answer = negotiateEncoding(['x'.repeat(5000)], undefined);
    expect('error' in answer && answer.error.length).toBeLessThan(120);
  });

  it('picks the first supported subprotocol offered, consistent with the query', () => {
    expect(negotiateEncoding([], 'chat, sigcast.v1.msgpack, sigcast.v1.json')).toEqual({ encoding: 'msgpack', protocol: 'sigcast.v1.msgpack' });
    expect(negotiateEncoding(['json'], 'sigcast.v1.msgpack, sigcast.v1.json')).toEqual({ encoding: 'json', protocol: 'sigcast.v1.json' });
    expect(negotiateEncoding([], 'chat')).toEqual({ error: expect.stringContaining('sigcast.v1.json') });
    expect(negotiateEncoding(['msgpack'], 'sigcast.v1.json')).toEqual({ error: expect.stringContaining('no supported subprotocol') });
  });
});
