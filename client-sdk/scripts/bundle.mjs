#!/usr/bin/env node
/**
 * Builds dist/huizhen-client.js: the SDK and mediasoup-client as one ESM file
 * for browsers, which the server serves at /sdk/huizhen-client.js (pages use
 * it with `<script type="module">`, no bundler needed).
 *
 * Fails if anything in the bundle would `require()` a module at run time: that
 * only works in Node, and would break in the browser at first use.
 */
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist', 'huizhen-client.js');

const result = await build({
  absWorkingDir: root,
  entryPoints: [join(root, 'src', 'index.ts')],
  outfile,
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2020',
  minify: true,
  // Keep class names so errors read `HuizhenError`/`ConnectionError` in consoles.
  keepNames: true,
  sourcemap: 'linked',
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
});

const problems = [];
for (const [input, info] of Object.entries(result.metafile.inputs)) {
  for (const imp of info.imports) {
    // '<runtime>' is esbuild's own helper code, inlined in the bundle.
    if (imp.external && imp.path !== '<runtime>') problems.push(`${input} imports external '${imp.path}'`);
  }
}
const code = await readFile(outfile, 'utf8');
const requireCall = /(?<![\w$.])(?:__)?require\s*\(\s*["'`]([^"'`]+)["'`]\s*\)/g;
for (const match of code.matchAll(requireCall)) problems.push(`bundle calls require('${match[1]}')`);
if (problems.length > 0) {
  console.error(`huizhen-client bundle is not browser-safe:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}

const bytes = result.metafile.outputs[relative(root, outfile)]?.bytes ?? code.length;
console.log(`built ${relative(process.cwd(), outfile)} (${Math.round(bytes / 1024)} KiB)`);
