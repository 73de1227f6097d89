#!/usr/bin/env node
// Fetches one upstream tarball from a Debian source package into a cache
// folder and checks it against a pinned sha256. The machine's own apt
// configuration is only read, never changed: a private sources file (the
// system's Debian entries turned into deb-src) and a private lists folder are
// passed to apt-get with -o. Uses only Node built-ins.
//
//   fetch-debian-source.mjs <source-package> <file-name> <sha256> <cache-dir>
//
// Prints the path of the checked file on its last line.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The private apt folder, removed by fail() too (process.exit skips `finally`).
let work;

const [pkg, fileName, wantSha, cacheDir] = process.argv.slice(2);
if (!pkg || !fileName || !/^[0-9a-f]{64}$/.test(wantSha ?? '') || !cacheDir) {
  fail('usage: fetch-debian-source.mjs <source-package> <file-name> <sha256> <cache-dir>');
}

const cached = join(cacheDir, fileName);
if (existsSync(cached)) {
  const got = sha256File(cached);
  if (got === wantSha) {
    log(`${fileName}: cached, sha256 ok`);
    console.log(cached);
    process.exit(0);
  }
  log(`${fileName}: cached copy has sha256 ${got}, expected ${wantSha}; fetching again`);
  rmSync(cached);
}

if (process.env.HUIZHEN_SKIP_APT === '1') {
  fail(
    `${fileName} is not cached and HUIZHEN_SKIP_APT=1 forbids apt-get: put the file (sha256 ${wantSha}, ` +
      `from 'apt-get source --download-only ${pkg}') at ${cached}`,
  );
}
work = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), 'huizhen-apt-src-'));
try {
  const parts = join(work, 'sources.list.d');
  const lists = join(work, 'lists');
  mkdirSync(parts);
  mkdirSync(join(lists, 'partial'), { recursive: true });
  mkdirSync(join(work, 'cache', 'archives', 'partial'), { recursive: true });
  const entries = debianSourceEntries();
  if (entries.length === 0) fail('no Debian archive entry found in /etc/apt/sources.list{,.d} to derive deb-src from');
  writeFileSync(join(parts, 'huizhen-src.sources'), entries.join('\n\n') + '\n');
  const aptOptions = [
    '-o',
    `Dir::Etc::SourceParts=${parts}`,
    '-o',
    `Dir::Etc::SourceList=${join(work, 'sources.list')}`,
    '-o',
    `Dir::State::Lists=${lists}`,
    '-o',
    `Dir::Cache=${join(work, 'cache')}`,
  ];
  writeFileSync(join(work, 'sources.list'), '');
  log(`fetching Debian source package ${pkg} (private apt lists in ${work})`);
  run('apt-get', [...aptOptions, '-qq', 'update'], work);
  const dl = join(work, 'download');
  mkdirSync(dl);
  run('apt-get', [...aptOptions, '-qq', 'source', '--download-only', pkg], dl);
  const got = join(dl, fileName);
  if (!existsSync(got)) fail(`apt-get source ${pkg} gave ${readdirSync(dl).join(', ')}, not ${fileName}`);
  const sha = sha256File(got);
  if (sha !== wantSha) fail(`${fileName}: sha256 ${sha}, expected ${wantSha}`);
  mkdirSync(cacheDir, { recursive: true });
  // Copied, not renamed: the temporary folder may be on another file system (a tmpfs /tmp);
  // the final rename stays inside the cache folder, so a half-written file is never `cached`.
  copyFileSync(got, `${cached}.tmp`);
  renameSync(`${cached}.tmp`, cached);
  log(`${fileName}: fetched, sha256 ok`);
  console.log(cached);
} finally {
  rmSync(work, { recursive: true, force: true });
}

/**
 * The system's Debian archive entries (main suite of this release, not the
 * security or updates suites), as deb822 stanzas of type deb-src.
 */
function debianSourceEntries() {
  const codename = /^VERSION_CODENAME=(\S+)$/m.exec(readText('/etc/os-release'))?.[1];
  if (!codename) fail('cannot read VERSION_CODENAME from /etc/os-release');
  const stanzas = [];
  const partsDir = '/etc/apt/sources.list.d';
  const files = existsSync(partsDir) ? readdirSync(partsDir).map((f) => join(partsDir, f)) : [];
  for (const file of files.filter((f) => f.endsWith('.sources'))) {
    for (const block of readText(file).split(/\n\s*\n/)) {
      const field = (name) => new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(block)?.[1].trim();
      const types = field('Types')?.split(/\s+/) ?? [];
      const uris = field('URIs');
      const suites = field('Suites')?.split(/\s+/) ?? [];
      if (!types.includes('deb') || !uris || !suites.includes(codename)) continue;
      if (/^enabled:\s*no/im.test(block)) continue;
      const signedBy = field('Signed-By');
      stanzas.push(
        [
          'Types: deb-src',
          `URIs: ${uris}`,
          `Suites: ${codename}`,
          `Components: ${field('Components') ?? 'main'}`,
          ...(signedBy ? [`Signed-By: ${signedBy}`] : []),
        ].join('\n'),
      );
    }
  }
  const oneLine = ['/etc/apt/sources.list', ...files.filter((f) => f.endsWith('.list'))];
  for (const file of oneLine.filter((f) => existsSync(f))) {
    for (const line of readText(file).split('\n')) {
      const m = /^deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.+)$/.exec(line.trim());
      if (!m || m[3] !== codename) continue;
      const signedBy = /signed-by=(\S+?)[\s\]]/.exec(m[1] ?? '')?.[1];
      stanzas.push(
        [
          'Types: deb-src',
          `URIs: ${m[2]}`,
          `Suites: ${codename}`,
          `Components: ${m[4].trim()}`,
          ...(signedBy ? [`Signed-By: ${signedBy}`] : []),
        ].join('\n'),
      );
    }
  }
  return stanzas;
}

function readText(file) {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

function sha256File(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 2, 2], cwd });
  if (r.status !== 0) fail(`'${cmd} ${args.join(' ')}' failed (exit ${r.status ?? r.signal})`);
}

function log(msg) {
  console.error(`[source] ${msg}`);
}

function fail(msg) {
  console.error(`[source] error: ${msg}`);
  if (work) rmSync(work, { recursive: true, force: true });
  process.exit(1);
}
