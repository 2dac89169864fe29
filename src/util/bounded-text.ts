// Text that may carry client input (a path, a key, a content type) is cut before it goes into an
// answer or a log line, so that no request can make sigcast echo back more than a few hundred bytes.

/** `text` when it is at most `max` characters, else its first `max - 1` and an ellipsis. */
export function boundedText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A client-given value quoted for a message (JSON string syntax), cut to about `max` characters. */
export function quoted(value: unknown, max = 64): string {
  const text = typeof value === 'string' ? value : String(value);
  return JSON.stringify(boundedText(text, max));
}
