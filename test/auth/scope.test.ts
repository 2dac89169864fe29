import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALL_SCOPES, formatScope, grants, NO_SCOPES, parseScope, parseScopeStrict, patternMatches, type Scopes } from '../../src/auth/scope.js';
import { CHANNEL_NAME_PATTERN } from '../../src/signal/schema.js';

/** The meaning of a pattern, written the obvious way: `*` is any run of channel-name characters. */
function reference(pattern: string): RegExp {
  const body = [...pattern].map((char) => (char === '*' ? '[A-Za-z0-9._:-]*' : char.replace(/[.]/g, '\\.'))).join('');
  return new RegExp(`^${body}$`);
}

const CHANNEL_CHARS = [...'ABCXYZabcz0189._:-'];
const channelChar = fc.constantFrom(...CHANNEL_CHARS);
const channel = fc
  .tuple(fc.constantFrom(...'ABCabc019'), fc.array(channelChar, { maxLength: 20 }))
  .map(([first, rest]) => first + rest.join(''))
  .filter((name) => CHANNEL_NAME_PATTERN.test(name));
const pattern = fc.array(fc.oneof(channelChar, fc.constant('*')), { minLength: 1, maxLength: 12 }).map((chars) => chars.join(''));

/** A channel and a pattern made from it by replacing some of its substrings with `*`: it must match. */
const channelAndCover = channel.chain((name) =>
  fc.array(fc.tuple(fc.nat(name.length), fc.nat(name.length)), { maxLength: 3 }).map((cuts) => {
    let covered = name;
    for (const [a, b] of cuts) {
      const [from, to] = a <= b ? [a, b] : [b, a];
      covered = covered.slice(0, Math.min(from, covered.length)) + '*' + covered.slice(Math.min(to, covered.length));
    }
    return { name, covered };
  }),
);

describe('scope patterns', () => {
  it.each([
    ['BTC*', 'BTCUSDT', true],
    ['BTC*', 'BTC', true],
    ['BTC*', 'XBTCUSDT', false],
    ['*USDT', 'ETHUSDT', true],
    ['strategy.*', 'strategy.momentum', true],
    ['strategy.*', 'strategyXmomentum', false],
    ['*', 'anything.at:all-1', true],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXcYYb', false],
    ['BTCUSDT', 'BTCUSDT', true],
    ['BTCUSDT', 'btcusdt', false],
    ['**', 'x', true],
  ])('%s on %s: %s', (p, c, expected) => {
    expect(patternMatches(p, c)).toBe(expected);
  });

  it('matches exactly what the obvious regular expression matches', () => {
    fc.assert(fc.property(pattern, channel, (p, c) => patternMatches(p, c) === reference(p).test(c)), { numRuns: 5000 });
  });

  it('a pattern made from a channel by starring parts of it matches that channel', () => {
    fc.assert(fc.property(channelAndCover, ({ name, covered }) => patternMatches(covered, name)), { numRuns: 2000 });
  });

  it('a pattern without a star matches only itself', () => {
    fc.assert(fc.property(channel, channel, (a, b) => patternMatches(a, b) === (a === b)), { numRuns: 2000 });
  });

  it('stays fast on patterns built to backtrack', () => {
    // Exponential matchers take seconds here; this one is linear in practice.
    expect(patternMatches(`${'a*'.repeat(60)}b`, 'a'.repeat(64))).toBe(false);
  });
});

describe('scope strings', () => {
  it('a scope grants an action on a channel exactly when one of its patterns for that action matches', () => {
    const scopeItems = fc.array(fc.tuple(fc.constantFrom('publish', 'subscribe'), pattern), { maxLength: 6 });
    fc.assert(
      fc.property(scopeItems, channel, (items, c) => {
        const { scopes, ignored } = parseScope(items.map(([action, p]) => `${action}:${p}`).join(' '));
        expect(ignored).toEqual([]);
        for (const action of ['publish', 'subscribe'] as const) {
          const expected = items.some(([a, p]) => a === action && reference(p).test(c));
          if (grants(scopes, action, c) !== expected) return false;
        }
        return true;
      }),
      { numRuns: 2000 },
    );
  });

  it('parses the OAuth-style string, sets aside what it does not understand, and round-trips', () => {
    const parsed = parseScope('  publish:BTC* publish:strategy.momentum\tsubscribe:*  openid read:BTC publish: subscribe:a{b}');
    expect(parsed.scopes).toEqual({ publish: ['BTC*', 'strategy.momentum'], subscribe: ['*'] });
    expect(parsed.ignored).toEqual(['openid', 'read:BTC', 'publish:', 'subscribe:a{b}']);
    expect(parseScope(formatScope(parsed.scopes)).scopes).toEqual(parsed.scopes);
    expect(parseScope('').scopes).toEqual(NO_SCOPES);
  });

  it('publish and subscribe are separate: one never grants the other', () => {
    const onlyPublish: Scopes = parseScopeStrict('publish:*');
    expect(grants(onlyPublish, 'publish', 'BTCUSDT')).toBe(true);
    expect(grants(onlyPublish, 'subscribe', 'BTCUSDT')).toBe(false);
    expect(grants(ALL_SCOPES, 'subscribe', 'BTCUSDT')).toBe(true);
    expect(grants(NO_SCOPES, 'publish', 'BTCUSDT')).toBe(false);
  });

  it('the strict parser (key files, ANONYMOUS_SCOPE, keys new) names every item it refuses', () => {
    expect(() => parseScopeStrict('publish:BTC* admin subscribe:a/b')).toThrow(/"admin", "subscribe:a\/b"/);
    expect(parseScopeStrict('subscribe:*')).toEqual({ publish: [], subscribe: ['*'] });
  });
});
