import { describe, expect, it } from 'vitest';
import { checkRequestHead, MAX_HEADER_FIELDS, type RequestHead } from '../../src/transport/request-head.js';

const LIMITS = { maxUrlBytes: 100, maxHeaderBytes: 200, maxBodyBytes: 1000 };
const head = (headers: Array<[string, string]>, extra: Partial<RequestHead> = {}): RequestHead => ({ version: '1.1', target: '/v1/signals', headers: [['host', 'h'], ...headers], ...extra });
const verdict = (value: RequestHead) => {
  const answer = checkRequestHead(value, LIMITS);
  return answer && { status: answer.status, code: (JSON.parse(String(answer.body)) as { error: { code: string } }).error.code, close: answer.headers?.['connection'] };
};

describe('checkRequestHead', () => {
  it('passes an ordinary head, with or without a body length', () => {
    expect(verdict(head([]))).toBeUndefined();
    expect(verdict(head([['content-length', '1000']]))).toBeUndefined();
    expect(verdict(head([['content-length', ' 12 ']]))).toBeUndefined();
    expect(verdict(head([['transfer-encoding', 'chunked']]))).toBeUndefined();
    expect(verdict(head([], { version: '1.0', headers: [] }))).toBeUndefined();
  });

  it.each<[string, RequestHead, number, string]>([
    ['HTTP/2.0', head([], { version: '2.0' }), 505, 'http_version_not_supported'],
    ['a long target', head([], { target: `/${'a'.repeat(100)}` }), 414, 'uri_too_long'],
    ['too many fields', head(Array.from({ length: MAX_HEADER_FIELDS }, (_, i): [string, string] => [`x${i}`, ''])), 431, 'headers_too_large'],
    ['too many header bytes', head([['x', 'v'.repeat(200)]]), 431, 'headers_too_large'],
    ['no Host on 1.1', { version: '1.1', target: '/', headers: [] }, 400, 'bad_request'],
    ['two Hosts', head([['host', 'other']]), 400, 'bad_request'],
    ['two lengths', head([['content-length', '5'], ['content-length', '3']]), 400, 'bad_request'],
    ['two equal lengths', head([['content-length', '5'], ['content-length', '5']]), 400, 'bad_request'],
    ['a length list', head([['content-length', '5, 5']]), 400, 'bad_request'],
    ['a hex length', head([['content-length', '0x10']]), 400, 'bad_request'],
    ['a negative length', head([['content-length', '-1']]), 400, 'bad_request'],
    ['an empty length', head([['content-length', '']]), 400, 'bad_request'],
    ['length and chunked', head([['content-length', '5'], ['transfer-encoding', 'chunked']]), 400, 'bad_request'],
    ['gzip', head([['transfer-encoding', 'gzip, chunked']]), 400, 'bad_request'],
    ['a declared body over the limit', head([['content-length', '1001']]), 413, 'body_too_large'],
    ['a declared body of 2^53', head([['content-length', String(2 ** 53)]]), 413, 'body_too_large'],
  ])('refuses %s and closes the connection', (_name, value, status, code) => {
    expect(verdict(value)).toEqual({ status, code, close: 'close' });
  });
});
