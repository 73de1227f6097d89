#!/usr/bin/env node
/**
 * Measures what the SDK costs an app: bundles tiny app entries with esbuild the
 * way an app's bundler would (ESM, minified, tree-shaken through the package's
 * `exports` and `sideEffects: false`) and prints min and min+gzip sizes. Also
 * reports the single-file /sdk bundle. Run after `npx tsc -b client-sdk`.
 *
 *   node client-sdk/scripts/size.mjs [--json]
 */
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** What a hospital's app imports, from the least to the most. */
export const APPS = {
  'connect only': `import { connect } from '@huizhen/client-sdk'; connect('https://h.example', 't').then(console.log);`,
  'connect + preflight': `import { connect } from '@huizhen/client-sdk'; import { preflight } from '@huizhen/client-sdk/preflight'; connect('https://h.example', 't').then(console.log); preflight({ serverUrl: 'https://h.example', token: 't' }).then(console.log);`,
  'connect + Bluetooth vitals device': `import { connect } from '@huizhen/client-sdk'; import { bluetoothVitalsDevice } from '@huizhen/client-sdk/vitals'; connect('https://h.example', 't').then(console.log); console.log(bluetoothVitalsDevice);`,
  'everything (import *)': `import * as sdk from '@huizhen/client-sdk'; console.log(sdk);`,
};

/** Bundles `contents` as an app entry, code-split: `initial` is what the page loads first, `total` everything. */
async function measure(contents) {
  const app = {
    name: 'app-entry',
    setup(b) {
      b.onResolve({ filter: /^app-entry$/ }, () => ({ path: 'app-entry', namespace: 'app' }));
      b.onLoad({ filter: /.*/, namespace: 'app' }, () => ({ contents, resolveDir: root, loader: 'js' }));
    },
  };
  const result = await build({
    entryPoints: ['app-entry'],
    plugins: [app],
    outdir: join(root, 'dist', '.size'),
    bundle: true,
    splitting: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2020',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'error',
  });
  const sizes = (files) => ({
    min: files.reduce((n, f) => n + f.contents.length, 0),
    gzip: files.reduce((n, f) => n + gzipSync(f.contents, { level: 9 }).length, 0),
  });
  const js = result.outputFiles.filter((f) => f.path.endsWith('.js'));
  // The entry and the chunks it imports statically load at once; dynamic import() chunks load on use.
  const outputs = result.metafile.outputs;
  const initialPaths = new Set();
  const visit = (path) => {
    if (initialPaths.has(path)) return;
    initialPaths.add(path);
    for (const imp of outputs[path]?.imports ?? []) if (imp.kind === 'import-statement') visit(imp.path);
  };
  // Chunks behind import() are entry points of their own to esbuild; only the app's entry counts here.
  for (const path of Object.keys(outputs)) if (outputs[path].entryPoint === 'app:app-entry') visit(path);
  const initial = js.filter((f) => initialPaths.has(relative(process.cwd(), f.path)));
  return { initial: sizes(initial), total: sizes(js) };
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const rows = {};
for (const [name, source] of Object.entries(APPS)) rows[name] = await measure(source);
const bundle = await readFile(join(root, 'dist', 'huizhen-client.js'));
const whole = { min: bundle.length, gzip: gzipSync(bundle, { level: 9 }).length };
rows['/sdk/huizhen-client.js (single file)'] = { initial: whole, total: whole };

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  console.log(`${''.padEnd(40)} ${'initial (min / min+gzip)'.padStart(26)}   ${'total (min / min+gzip)'.padStart(24)}`);
  for (const [name, { initial, total }] of Object.entries(rows)) {
    const pair = (s) => `${kib(s.min)} / ${kib(s.gzip)}`;
    console.log(`${name.padEnd(40)} ${pair(initial).padStart(26)}   ${pair(total).padStart(24)}`);
  }
}
