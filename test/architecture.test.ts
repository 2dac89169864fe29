// The structure drawn from the imports: no cycles, and in src/ imports only point down the layers
// (README "Layout"). A new folder or top-level file of src/ must be given a rank here first.
import { describe, expect, it } from 'vitest';
import { findCycles, type ImportGraph, importGraph, listTsFiles, relativeSpecifiers } from './support/import-graph.js';

/**
 * Rank of each part of src/, lowest first: a file may import files of its own rank or lower.
 * Base modules are rank 0, so anything may import them (config.ts and metrics.ts included) and
 * they import nothing above. ingest/ uses the broker only, so hub/ and above may use it.
 */
const SRC_LAYERS: ReadonlyArray<readonly [part: string, rank: number]> = [
  ['signal/', 0],
  ['util/', 0],
  ['errors.ts', 0],
  ['log.ts', 0],
  ['metrics.ts', 0],
  ['config.ts', 0],
  ['protocol/', 1],
  // Auth policy (principals, scopes, tokens, key files) and rate limits: pure or near it, above the
  // wire (protocol/, signal/), below the broker and everything that serves connections.
  ['auth/', 1.5],
  ['limits/', 1.5],
  ['broker/', 2],
  ['ingest/', 2.5],
  ['hub/', 3],
  ['transport/', 4],
  ['session/', 5],
  ['http/', 6],
  ['wiring.ts', 7],
  ['node.ts', 7],
  ['cli.ts', 8],
  ['cli/', 8],
];

/** bench/lib/ is the bench's bottom: it imports nothing from another bench/ folder. */
const BENCH_LIB = 'bench/lib/';

const root = new URL('../', import.meta.url).pathname;

function rankOf(file: string): number | undefined {
  const inSrc = file.slice('src/'.length);
  return SRC_LAYERS.find(([part]) => (part.endsWith('/') ? inSrc.startsWith(part) : inSrc === part))?.[1];
}

/** Every import that runs up a layer, as `from -> to (rank a -> rank b)`. */
function upwardImports(graph: ImportGraph): string[] {
  const violations: string[] = [];
  for (const [from, targets] of graph) {
    const fromRank = rankOf(from);
    for (const to of targets) {
      const toRank = rankOf(to);
      if (fromRank !== undefined && toRank !== undefined && toRank > fromRank) violations.push(`${from} -> ${to} (rank ${fromRank} -> rank ${toRank})`);
    }
  }
  return violations;
}

describe('import structure', () => {
  it('src/: every file has a layer, no cycle, imports only point down', () => {
    const graph = importGraph(root, listTsFiles(root, 'src'));
    expect.soft([...graph.keys()].filter((file) => rankOf(file) === undefined), 'files without a rank in SRC_LAYERS').toEqual([]);
    expect.soft(findCycles(graph), 'import cycles').toEqual([]);
    expect.soft(upwardImports(graph), 'imports that run up a layer').toEqual([]);
  });

  it('bench/: no cycle, bench/lib/ imports nothing from the folders above it, nothing from test/', () => {
    const graph = importGraph(root, listTsFiles(root, 'bench'));
    expect.soft(findCycles(graph), 'import cycles').toEqual([]);
    const upward = [...graph]
      .filter(([from]) => from.startsWith(BENCH_LIB))
      .flatMap(([from, targets]) => targets.filter((to) => !to.startsWith(BENCH_LIB)).map((to) => `${from} -> ${to}`));
    expect.soft(upward, 'bench/lib/ importing from above').toEqual([]);
    // test/ may use bench/ (the smoke test runs it), never the other way round.
    const withTests = importGraph(root, [...graph.keys(), ...listTsFiles(root, 'test')]);
    const intoTests = [...withTests]
      .filter(([from]) => from.startsWith('bench/'))
      .flatMap(([from, targets]) => targets.filter((to) => to.startsWith('test/')).map((to) => `${from} -> ${to}`));
    expect.soft(intoTests, 'bench/ importing from test/').toEqual([]);
  });
});

describe('the import parser and the cycle finder', () => {
  it('sees every import form, and nothing in comments or strings', () => {
    const source = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "import { type C, d } from './c/d.js';",
      "import './side-effect.js';",
      "export { e } from './e.js';",
      "export * from './f.js';",
      "export type { G } from './g.js';",
      'import {',
      '  h,',
      "} from './h.js';",
      "const lazy = () => import('./lazy.js');",
      "type T = import('./t.js').T;",
      "import { readFileSync } from 'node:fs';",
      "// import { x } from './commented.js';",
      "const s = \"import { y } from './in-a-string.js'\";",
    ].join('\n');
    expect(relativeSpecifiers(source)).toEqual(['./a.js', '../b.js', './c/d.js', './side-effect.js', './e.js', './f.js', './g.js', './h.js', './lazy.js', './t.js']);
  });

  it('finds each cycle once, self-imports included, and none in a DAG', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts', 'd.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['d.ts']],
      ['e.ts', ['a.ts']],
    ]);
    expect(findCycles(graph)).toEqual(['a.ts -> b.ts -> c.ts -> a.ts', 'd.ts -> d.ts']);
    expect(findCycles(new Map([['a.ts', ['b.ts', 'c.ts']], ['b.ts', ['c.ts']], ['c.ts', []]]))).toEqual([]);
  });
});
