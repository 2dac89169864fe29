import { monotonicFactory } from 'ulid';
import { randomUnit } from '../util/pooled-random.js';

/** The id stamped on a signal published without one: a ULID, increasing even within one millisecond. */
export const newSignalId: (now?: number) => string = monotonicFactory(randomUnit);
