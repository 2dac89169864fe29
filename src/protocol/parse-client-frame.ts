import type { z } from 'zod';
import { SigcastError, type ErrorDetail } from '../errors.js';
import { boundedText, quoted } from '../util/bounded-text.js';
import { CLIENT_OPS, ClientFrameSchema, RequestIdSchema, type ClientFrame } from './frames.js';

/** Validates a decoded client frame; throws SigcastError with the most specific stable code. */
export function parseClientFrame(raw: unknown): ClientFrame {
  const parsed = ClientFrameSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const op = isRecord(raw) ? raw['op'] : undefined;
  if (typeof op !== 'string' || !(CLIENT_OPS as readonly string[]).includes(op)) {
    const given = typeof op === 'string' ? quoted(op, 32) : op === undefined ? 'none' : typeof op;
    throw new SigcastError('unknown_op', `unknown op ${given}; expected one of ${CLIENT_OPS.join(', ')}`);
  }
  const details = issueDetails(parsed.error.issues);
  if (details.some((detail) => detail.path === 'channel')) {
    throw new SigcastError('invalid_channel', details.find((detail) => detail.path === 'channel')!.message, details);
  }
  const summary = boundedText(details.map((d) => `${d.path}: ${d.message}`).join('; '), 200);
  throw new SigcastError('invalid_frame', `invalid ${op} frame: ${summary}`, details);
}

/** The request id of a frame that may be invalid, so that its error can still be matched by the client. */
export function requestIdOf(raw: unknown): string | number | undefined {
  if (!isRecord(raw)) return undefined;
  const id = RequestIdSchema.safeParse(raw['id']);
  return id.success ? id.data : undefined;
}

function issueDetails(issues: readonly z.core.$ZodIssue[]): ErrorDetail[] {
  return issues.map((issue) => ({ path: issue.path.join('.') || '(frame)', message: issue.message }));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
