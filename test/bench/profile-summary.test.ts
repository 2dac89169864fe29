// The report's CPU profiles: files matched to their job by the pid in the name node gives them,
// and the repo's own frames found in a compiled (dist/src) build as in the source (src/).
import { describe, expect, it } from 'vitest';
import { type CpuProfile, profilePid, summarizeProfile } from '../../bench/report/profile-summary.js';

describe('profile summaries', () => {
  it('reads the pid from the name node writes a profile under, and nothing from other names', () => {
    expect(profilePid('CPU.20261202.013443.15655.0.001.cpuprofile')).toBe(15655);
    expect(profilePid('CPU.20261202.013443.15655.0.001.cpuprofile.tmp')).toBeUndefined();
    expect(profilePid('Heap.20261202.013443.15655.0.001.heapprofile')).toBeUndefined();
  });

  it('ranks self time, and total time of the repo\'s own frames, compiled or not', () => {
    const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url, lineNumber: 0 }, children });
    const profile: CpuProfile = {
      nodes: [
        frame(1, '(root)', '', [2, 5]),
        frame(2, 'deliver', `file://${process.cwd()}/dist/src/hub/hub.js`, [3]),
        frame(3, 'publish', `file://${process.cwd()}/node_modules/uws/uws.js`),
        frame(5, 'parse', `file://${process.cwd()}/src/signal/schema.ts`),
      ],
      samples: [3, 3, 3, 2, 5],
      timeDeltas: [1000, 1000, 1000, 1000, 1000],
      startTime: 0,
      endTime: 5000,
    };
    const summary = summarizeProfile(profile, 5);
    expect(summary.busyMs).toBe(5);
    expect(summary.self[0]).toMatchObject({ frame: 'publish node_modules/uws/uws.js:1', ms: 3, percent: 60 });
    expect(summary.total.map((entry) => entry.frame)).toEqual(['deliver dist/src/hub/hub.js:1', 'parse src/signal/schema.ts:1']);
    expect(summary.total[0]?.ms).toBe(4);
  });
});
