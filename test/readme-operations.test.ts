import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../src/config.js';
import { Metrics } from '../src/metrics.js';

/** The README's configuration table and Operations section stay true to the code. */
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

function section(heading: string): string {
  const start = readme.indexOf(`\n## ${heading}\n`);
  expect(start, `README section ${heading}`).toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

/** The innermost schema of a field (under .default(), .optional(), ...). */
function inner(field: unknown): { def: { type: string; innerType?: unknown }; minValue?: number | null; maxValue?: number | null } {
  let schema = field as { def: { type: string; innerType?: unknown } };
  while (schema.def.innerType) schema = schema.def.innerType as typeof schema;
  return schema;
}

describe('README', () => {
  it('has a configuration row for every variable, with the range of every number', () => {
    const table = section('Configuration');
    for (const [name, field] of Object.entries(ConfigSchema.shape)) {
      const row = table.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
      expect(row, `a row for ${name}`).toBeDefined();
      const schema = inner(field);
      if (schema.def.type === 'number') expect(row, `the range of ${name}`).toContain(`\`${schema.minValue}\`..\`${schema.maxValue}\``);
    }
    expect(table).toContain('An empty variable (`PORT=`) counts as\nunset');
    expect(table).toContain('Booleans accept `true`, `1`, `yes` and `false`, `0`, `no`');
  });

  it('documents every metric sigcast registers in its Operations section', async () => {
    const operations = section('Operations');
    const names = (await new Metrics().registry.getMetricsAsJSON()).map((metric) => metric.name);
    const own = names.filter((name) => !name.startsWith('sigcast_process_') && !name.startsWith('sigcast_nodejs_'));
    expect(own.length).toBeGreaterThan(15);
    for (const name of own) expect(operations, name).toMatch(new RegExp(`\`${name}[{\`]`));
    for (const text of ['### Endpoints', '### Signals and shutdown', '### Using every core', '### TLS', '### What "acknowledged" means', 'appendfsync always']) {
      expect(operations).toContain(text);
    }
  });
});
