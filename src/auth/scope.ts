// Scopes in the OAuth 2 convention: a space-separated string of `publish:<pattern>` and
// `subscribe:<pattern>` items, where `*` in a pattern matches any run (possibly empty) of
// channel-name characters. Pure: parsing, matching and granting, nothing else.

export const ACTIONS = ['publish', 'subscribe'] as const;
export type Action = (typeof ACTIONS)[number];

/** The channel patterns a principal may publish to and subscribe to. */
export interface Scopes {
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
}

export const NO_SCOPES: Scopes = Object.freeze({ publish: Object.freeze([]), subscribe: Object.freeze([]) });
/** What everyone may do on a loopback node without auth, as before auth existed. */
export const ALL_SCOPES: Scopes = Object.freeze({ publish: Object.freeze(['*']), subscribe: Object.freeze(['*']) });

/** Channel-name characters and `*`; as long as a channel name could be, with room for stars. */
const PATTERN = /^[A-Za-z0-9._:*-]{1,128}$/;

export interface ParsedScope {
  scopes: Scopes;
  /** Items that are not `publish:<pattern>` or `subscribe:<pattern>` (another service's scopes, typos). */
  ignored: string[];
}

/** Parses a scope string; items it does not understand are set aside, never granted. */
export function parseScope(text: string): ParsedScope {
  const publish: string[] = [];
  const subscribe: string[] = [];
  const ignored: string[] = [];
  for (const item of text.split(/\s+/)) {
    if (item === '') continue;
    const colon = item.indexOf(':');
    const action = item.slice(0, colon);
    const pattern = item.slice(colon + 1);
    if (colon === -1 || !PATTERN.test(pattern)) ignored.push(item);
    else if (action === 'publish') publish.push(pattern);
    else if (action === 'subscribe') subscribe.push(pattern);
    else ignored.push(item);
  }
  return { scopes: { publish, subscribe }, ignored };
}

/**
 * Parses a scope string that sigcast itself is given (the API keys file, ANONYMOUS_SCOPE, the
 * `keys new` command): every item must be understood. Throws an Error naming the bad items.
 */
export function parseScopeStrict(text: string): Scopes {
  const { scopes, ignored } = parseScope(text);
  if (ignored.length > 0) {
    throw new Error(
      `scope items ${ignored.map((item) => JSON.stringify(item)).join(', ')} are not publish:<pattern> or subscribe:<pattern> ` +
        '(a pattern is 1-128 chars of A-Z a-z 0-9 . _ : - and *)',
    );
  }
  return scopes;
}

export function formatScope(scopes: Scopes): string {
  return [...scopes.publish.map((p) => `publish:${p}`), ...scopes.subscribe.map((p) => `subscribe:${p}`)].join(' ');
}

/**
 * Whether `pattern` matches the whole of `channel`, `*` matching any run of characters.
 * Greedy with one backtrack point (the last star): linear in practice, never exponential.
 */
export function patternMatches(pattern: string, channel: string): boolean {
  let p = 0;
  let c = 0;
  let star = -1;
  let resume = 0;
  while (c < channel.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === channel[c]) {
      p += 1;
      c += 1;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p;
      resume = c;
      p += 1;
    } else if (star !== -1) {
      p = star + 1;
      resume += 1;
      c = resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p += 1;
  return p === pattern.length;
}

/** A scope grants an action on a channel exactly when one of that action's patterns matches it. */
export function grants(scopes: Scopes, action: Action, channel: string): boolean {
  return scopes[action].some((pattern) => patternMatches(pattern, channel));
}
