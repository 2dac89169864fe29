import { describe, expect, it } from 'vitest';
import { boundBy } from '../../bench/report/bound.js';
import type { Busy } from '../../bench/scenarios/types.js';

const idle: Busy = { wallMs: 10_000, server: 0.3, subscribers: 0.2, publishers: 0.1, redis: 0.05, machine: 0.35 };

describe('boundBy', () => {
  it('names the saturated process: the load generator first, as its figures then measure the bench', () => {
    expect(boundBy({ ...idle, subscribers: 0.97 })).toBe('load generator (a subscriber worker at 97% of a core)');
    expect(boundBy({ ...idle, publishers: 0.93, server: 0.95 })).toBe('load generator (a publisher worker at 93% of a core) + server (95% of a core)');
    expect(boundBy({ ...idle, server: 1.01 })).toBe('server (101% of a core)');
    expect(boundBy({ ...idle, redis: 0.9 })).toBe('redis (90% of a core)');
  });

  it('names the machine when no process was saturated but every core was busy, and nothing when the load set the pace', () => {
    expect(boundBy({ ...idle, server: 0.7, subscribers: 0.6, publishers: 0.5, machine: 0.95 })).toMatch(/^machine \(all cores 95% busy with this job: server 70%, subscriber workers up to 60%/);
    expect(boundBy(idle)).toBeUndefined();
    expect(boundBy(undefined)).toBeUndefined();
  });
});

describe('boundBy on a shared machine', () => {
  it('says so when other work took the cores', () => {
    expect(boundBy({ ...idle, machine: 0.7, system: 0.99 })).toMatch(/^machine, shared \(all cores 99% busy, 70% with this job: server 30%/);
    expect(boundBy({ ...idle, system: 0.5 })).toBeUndefined();
  });
});
