// Builds the dashboard into dist/dashboard/ (what src/http/static.ts serves): app.js bundled by
// esbuild from dashboard/src and the project's own client, plus index.html and style.css.
// Run by `npm run build:dashboard`, by `npm ci` (prepare), before `npm start`, and by the tests.
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_OUT_DIR = join(here, '..', 'dist', 'dashboard');

export interface DashboardBuild {
  outDir: string;
  /** Bytes of app.js (minified). */
  scriptBytes: number;
  /** Every input file of the bundle (a test checks that no server code or zod is in it). */
  inputs: string[];
}

export async function buildDashboard(outDir: string = DEFAULT_OUT_DIR): Promise<DashboardBuild> {
  // esbuild is a dev dependency: loaded here, so that an install without it can say so (below).
  const { build } = await import('esbuild');
  await mkdir(outDir, { recursive: true });
  const result = await build({
    entryPoints: [join(here, 'src', 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    outfile: join(outDir, 'app.js'),
    metafile: true,
    logLevel: 'warning',
  });
  await Promise.all(['index.html', 'style.css'].map((name) => copyFile(join(here, name), join(outDir, name))));
  const output = Object.entries(result.metafile.outputs).find(([path]) => path.endsWith('app.js'));
  return { outDir, scriptBytes: output?.[1].bytes ?? 0, inputs: Object.keys(result.metafile.inputs) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const built = await buildDashboard(process.argv[2] ?? DEFAULT_OUT_DIR);
    process.stdout.write(`dashboard built in ${built.outDir} (app.js ${(built.scriptBytes / 1024).toFixed(1)} KiB)\n`);
  } catch (error) {
    // `npm ci --omit=dev` runs `prepare` without esbuild: install anyway; the server then answers / with a clear 404.
    if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    process.stderr.write('dashboard not built: esbuild (a dev dependency) is not installed\n');
  }
}
