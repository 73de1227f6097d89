#!/usr/bin/env node
// The `huizhen` command. This file is committed (the CLI itself is built into dist/) so that npm
// links the command at install time, before anything is built; it says so if the build is missing.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('huizhen: the server is not built yet; run `npm run build` at the repository root first.');
  process.exit(1);
}
await import(cli.href);
