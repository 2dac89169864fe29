import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../dashboard/build.js';
import { DASHBOARD_FILES } from '../../src/http/static.js';

describe('dashboard build', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'sigcast-dashboard-build-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('writes exactly the files the server serves, from the client and dashboard sources only', async () => {
    const built = await buildDashboard(outDir);
    expect(readdirSync(outDir).sort()).toEqual(Object.keys(DASHBOARD_FILES).sort());
    // Type-only imports of the server's schemas keep zod and the server out of the page; the one
    // file of src/ it takes is the dependency-free msgpack configuration shared with the server.
    expect(built.inputs.filter((input) => /^src\/|zod/.test(input))).toEqual(['src/protocol/msgpack-options.ts']);
    expect(built.inputs.some((input) => input.endsWith('clients/sigcast-client.ts'))).toBe(true);
    expect(built.scriptBytes).toBeLessThan(150_000);
    expect(readFileSync(join(outDir, 'index.html'), 'utf8')).toContain('src="app.js"');
  });
});
