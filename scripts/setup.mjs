#!/usr/bin/env node
// Brings a machine to the point where Huizhen can start or be tested: Debian
// packages, npm dependencies and the mediasoup worker. Idempotent and quick
// when everything is already in place, so `npm start` / `npm test` can call it
// every time. Uses only Node built-ins: it runs before `npm ci`.
//
//   node scripts/setup.mjs [--for start|test|bench] [--print-worker-cache-path]
//
// Environment:
//   HUIZHEN_CACHE_DIR      where the built worker and the source tarballs it is built
//                          from are cached (default ~/.cache/huizhen)
//   HUIZHEN_WORKER_SOURCE  auto (default: try mediasoup's prebuilt download, then
//                          build from source) | build (always build from source)
//   HUIZHEN_SKIP_APT=1     never call apt-get (report missing packages instead)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const purpose = argValue('--for') ?? 'start';
if (!['start', 'test', 'bench'].includes(purpose)) fail(`unknown --for '${purpose}' (expected start, test or bench)`);

const MEDIASOUP_VERSION = JSON.parse(readFileSync(join(root, 'server/package.json'), 'utf8')).dependencies.mediasoup;
if (!/^\d+\.\d+\.\d+$/.test(MEDIASOUP_VERSION))
  fail(`server/package.json must pin mediasoup to an exact version (found '${MEDIASOUP_VERSION}')`);

// Shared libraries the locally built worker links against (pulled in by the -dev packages).
// libsrtp is not among them: build.sh compiles it from Debian's source package against
// OpenSSL (libssl-dev) and links it statically.
const WORKER_BUILD_PACKAGES = [
  'build-essential',
  'meson',
  'ninja-build',
  'pkg-config',
  'libssl-dev',
  'libuv1-dev',
  'libusrsctp-dev',
  'libabsl-dev',
  'libflatbuffers-dev',
  'flatbuffers-compiler',
  'patch',
];
// Browser tests drive Debian's Chromium; a font so pages render text.
// --- TURN: the relay tests start their own coturn (turnserver) on free loopback ports;
// iproute2 (ip, tc) for tests that build network namespaces.
// fonts-wqy-microhei: a CJK font (1.6 MB) for the records viewer's printed Chinese PDF fixture.
// redis-server: the cluster tests start their own on free ports, without persistence.
// janus: Debian's Janus gateway (VideoRoom plugin, HTTP transport), the side-by-side SFU the bench and
// loadtest/src/janus/janus.test.ts start on free loopback ports.
const BENCH_PACKAGES = ['janus'];
const TEST_PACKAGES = [
  'chromium',
  'fonts-dejavu-core',
  'fonts-wqy-microhei',
  'coturn',
  'iproute2',
  'ffmpeg',
  'redis-server',
  ...BENCH_PACKAGES,
];

main();

function main() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) fail(`Node.js 20 or newer is required (this is ${process.versions.node})`);

  const workerDir = join(root, 'node_modules/mediasoup/worker/out/Release');
  const workerInTree = join(workerDir, 'mediasoup-worker');
  const cacheRoot =
    process.env.HUIZHEN_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'huizhen');
  const builtWorker = join(
    cacheRoot,
    'mediasoup-worker',
    `${MEDIASOUP_VERSION}-${buildRecipeHash()}`,
    'mediasoup-worker',
  );
  const prebuiltWorker = join(cacheRoot, 'mediasoup-worker', `${MEDIASOUP_VERSION}-prebuilt`, 'mediasoup-worker');
  if (process.argv.includes('--print-worker-cache-path')) {
    console.log(builtWorker);
    return;
  }

  // 1. System packages. A locally built worker needs its shared libraries at run time.
  const wanted = [];
  const haveCachedPrebuilt = existsSync(prebuiltWorker) && process.env.HUIZHEN_WORKER_SOURCE !== 'build';
  if (!haveCachedPrebuilt) wanted.push(...WORKER_BUILD_PACKAGES);
  if (purpose === 'test') wanted.push(...TEST_PACKAGES);
  if (purpose === 'bench') wanted.push(...BENCH_PACKAGES);
  ensureDebianPackages(wanted);

  // 2. npm dependencies. MEDIASOUP_WORKER_BIN makes mediasoup's own postinstall
  // skip its download/pip build; the worker is handled in step 3.
  ensureNpmDependencies(builtWorker);

  // 3. The mediasoup worker binary, cached outside the repository.
  if (existsSync(builtWorker) && process.env.HUIZHEN_WORKER_SOURCE !== 'prebuilt') {
    placeWorker(builtWorker, workerInTree);
  } else if (haveCachedPrebuilt) {
    placeWorker(prebuiltWorker, workerInTree);
  } else {
    if (process.env.HUIZHEN_WORKER_SOURCE !== 'build' && tryPrebuiltWorker(workerInTree)) {
      copyExecutable(workerInTree, prebuiltWorker);
    } else {
      log(
        `building the mediasoup worker ${MEDIASOUP_VERSION} from source (first run only; cached in ${dirname(builtWorker)})`,
      );
      run('bash', [
        join(root, 'scripts/mediasoup-worker/build.sh'),
        MEDIASOUP_VERSION,
        builtWorker,
        join(cacheRoot, 'sources'),
      ]);
      placeWorker(builtWorker, workerInTree);
    }
  }
  const check = spawnSync(workerInTree, [], {
    env: { ...process.env, MEDIASOUP_VERSION },
    encoding: 'utf8',
    timeout: 10_000,
  });
  // Started without its channel the worker exits at once; a missing shared library shows up here.
  if (check.stderr && /error while loading shared libraries/.test(check.stderr)) {
    fail(`the mediasoup worker cannot start: ${check.stderr.trim()}`);
  }
  log('ready');
}

function ensureDebianPackages(packages) {
  if (packages.length === 0) return;
  const missing = packages.filter((p) => !debianPackageInstalled(p));
  if (missing.length === 0) return;
  const canApt = process.getuid?.() === 0 && process.env.HUIZHEN_SKIP_APT !== '1' && existsSync('/usr/bin/apt-get');
  if (!canApt) {
    fail(
      `missing system packages: ${missing.join(' ')}\n  install them with: sudo apt-get install -y ${missing.join(' ')}`,
    );
  }
  log(`installing system packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
}

function debianPackageInstalled(name) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${db:Status-Status}', name], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() === 'installed';
}

function ensureNpmDependencies(workerBinForInstall) {
  const lock = join(root, 'package-lock.json');
  const stamp = join(root, 'node_modules/.huizhen-install-stamp');
  const want = existsSync(lock) ? sha256(readFileSync(lock)) : 'no-lock';
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  log(existsSync(lock) ? 'installing npm dependencies (npm ci)' : 'installing npm dependencies (npm install)');
  run('npm', [existsSync(lock) ? 'ci' : 'install', '--no-audit', '--no-fund'], {
    env: { ...process.env, MEDIASOUP_WORKER_BIN: workerBinForInstall, PUPPETEER_SKIP_DOWNLOAD: '1' },
  });
  writeFileSync(stamp, want);
}

// With internet, mediasoup's own postinstall fetches a prebuilt worker in seconds.
// Offline it fails fast (its download and its pip fallback are both refused).
function tryPrebuiltWorker(workerInTree) {
  const pkgDir = join(root, 'node_modules/mediasoup');
  log('trying the prebuilt mediasoup worker download');
  const env = { ...process.env };
  delete env.MEDIASOUP_WORKER_BIN;
  const r = spawnSync('node', ['npm-scripts.mjs', 'postinstall'], {
    cwd: pkgDir,
    env,
    stdio: 'ignore',
    timeout: 15 * 60_000,
  });
  const ok = r.status === 0 && existsSync(workerInTree);
  log(ok ? 'prebuilt worker installed' : 'no prebuilt worker reachable; building from source instead');
  return ok;
}

/** Puts the worker where mediasoup looks, unless that exact binary is already there. */
function placeWorker(from, to) {
  if (
    existsSync(to) &&
    statSync(to).size === statSync(from).size &&
    sha256(readFileSync(to)) === sha256(readFileSync(from))
  )
    return;
  copyExecutable(from, to);
}

/** Copy then rename, so a concurrent reader never sees a half-written binary. */
function copyExecutable(from, to) {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, `${to}.tmp`);
  chmodSync(`${to}.tmp`, 0o755);
  renameSync(`${to}.tmp`, to);
}

// The cache key covers everything that shapes the binary we build.
function buildRecipeHash() {
  const dir = join(root, 'scripts/mediasoup-worker');
  const h = createHash('sha256');
  for (const file of listFiles(dir).sort()) {
    h.update(relative(dir, file));
    h.update(readFileSync(file));
  }
  return h.digest('hex').slice(0, 16);
}

function listFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)],
  );
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...options });
  if (r.status !== 0) fail(`'${cmd} ${args.join(' ')}' failed (exit ${r.status ?? r.signal})`);
}

function sha256(buf) {
  return createHash('sha256').update(buf).digest('hex');
}

function argValue(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function log(msg) {
  console.log(`[setup] ${msg}`);
}

function fail(msg) {
  console.error(`[setup] error: ${msg}`);
  process.exit(1);
}
