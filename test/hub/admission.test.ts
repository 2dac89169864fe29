import { describe, expect, it } from 'vitest';
import { SigcastError } from '../../src/errors.js';
import { Admission, type Ticket } from '../../src/hub/admission.js';

/** Records which tickets started, in order, and keeps them for the test to release. */
function harness(options: { concurrency: number; perOwner: number; maxQueued: number }) {
  const admission = new Admission(options);
  const started: string[] = [];
  const tickets = new Map<string, Ticket>();
  const admit = (owner: object, name: string): Ticket =>
    admission.admit(owner, (ticket) => {
      started.push(name);
      tickets.set(name, ticket);
    });
  return { admission, started, tickets, admit };
}

describe('Admission', () => {
  it('runs at most `concurrency` syncing at once; the rest wait and start as slots free, in order', () => {
    const { admission, started, tickets, admit } = harness({ concurrency: 2, perOwner: 10, maxQueued: 100 });
    const owner = {};
    for (const name of ['a', 'b', 'c', 'd']) admit(owner, name);
    expect(started).toEqual(['a', 'b']);
    expect(admission.waiting).toBe(2);
    tickets.get('a')!.done();
    expect(started).toEqual(['a', 'b', 'c']);
    // Synced frees the node-wide slot even though the subscribe is still replaying.
    tickets.get('b')!.synced();
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    expect(admission.running).toBe(2);
    expect(admission.waiting).toBe(0);
  });

  it('holds a connection to `perOwner` until its subscribes are done (replay included)', () => {
    const { started, tickets, admit } = harness({ concurrency: 100, perOwner: 2, maxQueued: 100 });
    const owner = {};
    for (const name of ['a', 'b', 'c']) admit(owner, name);
    expect(started).toEqual(['a', 'b']);
    tickets.get('a')!.synced();
    expect(started).toEqual(['a', 'b']);
    tickets.get('a')!.done();
    expect(started).toEqual(['a', 'b', 'c']);
  });

  it('takes turns between connections: one with a thousand waiting does not hold back another', () => {
    const { started, tickets, admit } = harness({ concurrency: 1, perOwner: 1000, maxQueued: 10_000 });
    const storm = {};
    const quiet = {};
    for (let i = 0; i < 1000; i++) admit(storm, `storm${i}`);
    admit(quiet, 'quiet');
    for (let i = 0; i < 3; i++) tickets.get(started.at(-1)!)!.done();
    expect(started.slice(0, 4)).toEqual(['storm0', 'storm1', 'quiet', 'storm2']);
  });

  it('a waiting ticket that is done is never started; a started one releases once however often it is done', () => {
    const { admission, started, tickets, admit } = harness({ concurrency: 1, perOwner: 10, maxQueued: 100 });
    const owner = {};
    admit(owner, 'a');
    const b = admit(owner, 'b');
    admit(owner, 'c');
    b.done();
    expect(admission.waiting).toBe(1);
    tickets.get('a')!.done();
    tickets.get('a')!.done();
    tickets.get('a')!.synced();
    expect(started).toEqual(['a', 'c']);
    expect(admission.running).toBe(1);
  });

  it('a subscribe that finishes at once (a warm channel) lets the next one start in the same call', () => {
    const admission = new Admission({ concurrency: 1, perOwner: 1, maxQueued: 100 });
    const started: number[] = [];
    const owner = {};
    for (let i = 0; i < 50; i++) {
      admission.admit(owner, (ticket) => {
        started.push(i);
        ticket.done();
      });
    }
    expect(started).toHaveLength(50);
    expect(admission.waiting).toBe(0);
    expect(admission.running).toBe(0);
  });

  it('past `maxQueued` waiting subscribes a new one is refused with `overloaded`, and a place frees again', () => {
    const { admission, tickets, admit } = harness({ concurrency: 1, perOwner: 10, maxQueued: 2 });
    const owner = {};
    admit(owner, 'run');
    admit(owner, 'w1');
    admit(owner, 'w2');
    const refused = (() => {
      try {
        admit(owner, 'w3');
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(SigcastError);
    expect((refused as SigcastError).code).toBe('overloaded');
    tickets.get('run')!.done();
    expect(() => admit(owner, 'w3')).not.toThrow();
    expect(admission.waiting).toBe(2);
  });
});
