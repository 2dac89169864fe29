import { createRequire } from 'node:module';
import type * as Uws from 'uWebSockets.js';

/**
 * Loads uWebSockets.js and tells whether its native binary loaded. The republished package we use
 * silently falls back to a slow JavaScript emulation when the binary cannot load (it only prints a
 * warning); sigcast must never run, nor be benchmarked, on that emulation by mistake.
 */
export type UwsModule = typeof Uws;

export interface LoadedUws {
  uws: UwsModule;
  native: boolean;
  /** Why the native binary is not in use (only when native is false). */
  reason?: string;
}

const require = createRequire(import.meta.url);
let cached: LoadedUws | undefined;

export function loadUws(): LoadedUws {
  if (cached) return cached;
  const uws = require('uWebSockets.js') as UwsModule;
  // The native addon's functions are native code; the emulation's are plain JavaScript.
  const native = Function.prototype.toString.call(uws.App).includes('[native code]');
  // No `uWebSockets: 20` header on every answer: a banner only tells a scanner what to try.
  // `_cfg('silent')` is the native addon's switch for it (process-wide; the emulation has none).
  if (native && typeof uws._cfg === 'function') uws._cfg('silent');
  cached = native
    ? { uws, native }
    : { uws, native, reason: nativeLoadError() ?? 'the JavaScript fallback was selected (UWS_USE_FALLBACK?)' };
  return cached;
}

function nativeLoadError(): string | undefined {
  const binary = `uWebSockets.js/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  try {
    require(binary);
    return undefined;
  } catch (error) {
    return `native binary ${binary} failed to load: ${error instanceof Error ? error.message : String(error)}`;
  }
}
