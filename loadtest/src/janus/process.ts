/**
 * A Janus gateway for the side-by-side comparison: Debian's `janus` binary,
 * started from a generated configuration in a temporary directory — ICE-lite,
 * one local address, its own RTP port range, only the VideoRoom
 * plugin and the HTTP transport (the plugin and transport folders hold just
 * those two libraries, so nothing else loads), no event handlers or loggers,
 * the log in a file in that directory.
 *
 * Janus 1.1.2 never gathers on a loopback interface (it skips `lo` even when
 * the enforce list names it or 127.0.0.1), so its one candidate is on this
 * machine's own first IPv4 address (`ice_enforce_list` = that address):
 * packets to a local address stay on this host (the kernel delivers them
 * over `lo`), and the generator accepts exactly that address besides
 * 127.0.0.0/8. Its HTTP API listens on 127.0.0.1 only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoadTestError } from '../errors.js';

export const JANUS_BINARY = '/usr/bin/janus';
const JANUS_LIB_DIR = '/usr/lib/x86_64-linux-gnu/janus';
const READY_TIMEOUT_MS = 15_000;

export interface JanusProcess {
  /** http://127.0.0.1:<port>/janus */
  readonly url: string;
  readonly pid: number;
  readonly dir: string;
  readonly logFile: string;
  /** The local address Janus' ICE candidates are on. */
  readonly iceIp: string;
  /** http://127.0.0.1:<port>/admin when opened (JanusOptions.adminSecret). */
  readonly adminUrl?: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

export interface JanusOptions {
  /** First RTP port of the range Janus may use (the range is 400 ports). */
  rtpPortMin?: number;
  /** Keep the temporary directory (config and log) after stop. */
  keepDir?: boolean;
  /**
   * A command janus runs under (e.g. valgrind and its options); janus' own
   * arguments follow it. Such a janus is far slower: `slow` raises the
   * session timeout and the waits for start and exit to match.
   */
  wrapper?: string[];
  slow?: boolean;
  /** Also open the Admin API (loopback, this secret), for per-handle packet counts. */
  adminSecret?: string;
}

/** What a started janus' config allows beyond the defaults. */
export interface JanusConfigExtras {
  sessionTimeoutSec?: number;
  admin?: { port: number; secret: string };
}

/** True when Debian's janus binary and its VideoRoom plugin and HTTP transport are installed. */
export function janusInstalled(): boolean {
  return (
    existsSync(JANUS_BINARY) &&
    existsSync(join(JANUS_LIB_DIR, 'plugins/libjanus_videoroom.so')) &&
    existsSync(join(JANUS_LIB_DIR, 'transports/libjanus_http.so'))
  );
}

/** This machine's first non-loopback IPv4 address (where Janus can gather), or undefined. */
export function localIceAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** The configuration files, by name (libconfig syntax, what Janus' .jcfg files are). */
export function janusConfig(
  dir: string,
  httpPort: number,
  rtpPortMin: number,
  iceIp: string,
  extras: JanusConfigExtras = {},
): Record<string, string> {
  const admin = extras.admin;
  return {
    'janus.jcfg': `general: {
  configs_folder = "${dir}"
  plugins_folder = "${dir}/plugins"
  transports_folder = "${dir}/transports"
  events_folder = "${dir}/events"
  loggers_folder = "${dir}/loggers"
  log_to_stdout = false
  log_to_file = "${dir}/janus.log"
  debug_level = ${process.env.HUIZHEN_JANUS_NICE_DEBUG ? 7 : 4}
  debug_timestamps = true
  session_timeout = ${extras.sessionTimeoutSec ?? 60}
${admin ? `  admin_secret = "${admin.secret}"\n` : ''}  server_name = "huizhen-loadtest-janus"
  protected_folders = ["/bin", "/boot", "/dev", "/etc", "/initrd", "/lib", "/lib32", "/lib64", "/proc", "/sbin", "/sys", "/usr", "/var"]
}
certificates: {
}
media: {
  ipv6 = false
  rtp_port_range = "${rtpPortMin}-${rtpPortMin + 399}"
}
nat: {
  ice_lite = true
  ice_tcp = false
  full_trickle = false
  ice_enforce_list = "${iceIp}"
  nice_debug = ${process.env.HUIZHEN_JANUS_NICE_DEBUG ? 'true' : 'false'}
}
plugins: {
}
transports: {
}
loggers: {
}
events: {
  broadcast = false
}
`,
    'janus.plugin.videoroom.jcfg': `general: {
}
`,
    'janus.transport.http.jcfg': `general: {
  json = "compact"
  base_path = "/janus"
  http = true
  ip = "127.0.0.1"
  port = ${httpPort}
  https = false
}
admin: {
${
  admin
    ? `  admin_base_path = "/admin"
  admin_http = true
  admin_ip = "127.0.0.1"
  admin_port = ${admin.port}`
    : '  admin_http = false'
}
  admin_https = false
}
cors: {
}
`,
  };
}

/** Starts Janus on a free loopback port and waits until its HTTP API answers. */
export async function startJanus(opts: JanusOptions = {}): Promise<JanusProcess> {
  if (!janusInstalled())
    throw new LoadTestError(
      'SETUP_FAILED',
      `${JANUS_BINARY} (Debian package janus) with the VideoRoom plugin is not installed: run node scripts/setup.mjs --for bench`,
    );
  const dir = mkdtempSync(join(tmpdir(), 'huizhen-janus-'));
  for (const sub of ['plugins', 'transports', 'events', 'loggers']) mkdirSync(join(dir, sub));
  symlinkSync(join(JANUS_LIB_DIR, 'plugins/libjanus_videoroom.so'), join(dir, 'plugins/libjanus_videoroom.so'));
  symlinkSync(join(JANUS_LIB_DIR, 'transports/libjanus_http.so'), join(dir, 'transports/libjanus_http.so'));
  const iceIp = localIceAddress();
  if (!iceIp)
    throw new LoadTestError('SETUP_FAILED', 'janus needs a non-loopback IPv4 address on this machine to gather on');
  const port = await freeTcpPort();
  const adminPort = opts.adminSecret ? await freeTcpPort() : undefined;
  const rtpPortMin = opts.rtpPortMin ?? 20_000 + 400 * Math.floor(Math.random() * 100);
  const extras: JanusConfigExtras = {
    // A janus under valgrind answers keepalives late; its sessions must not time out meanwhile.
    ...(opts.slow ? { sessionTimeoutSec: 600 } : {}),
    ...(adminPort && opts.adminSecret ? { admin: { port: adminPort, secret: opts.adminSecret } } : {}),
  };
  for (const [name, text] of Object.entries(janusConfig(dir, port, rtpPortMin, iceIp, extras)))
    writeFileSync(join(dir, name), text);
  const logFile = join(dir, 'janus.log');
  const janusArgs = ['-C', join(dir, 'janus.jcfg'), '-F', dir, '-i', iceIp, '-o'];
  const [command, ...prefix] = opts.wrapper?.length ? opts.wrapper : [JANUS_BINARY];
  const child = spawn(command!, opts.wrapper?.length ? [...prefix, JANUS_BINARY, ...janusArgs] : janusArgs, {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const readyTimeoutMs = opts.slow ? 10 * READY_TIMEOUT_MS : READY_TIMEOUT_MS;
  // valgrind writes its profile while janus exits: a slow janus gets a minute before SIGKILL.
  const stopTimeoutMs = opts.slow ? 60_000 : 5000;
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString();
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  const url = `http://127.0.0.1:${port}/janus`;
  const stop = async () => {
    if (!exited) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
      await gone;
      clearTimeout(timer);
    }
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
  };
  const deadline = performance.now() + readyTimeoutMs;
  for (;;) {
    if (exited) {
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
      await stop();
      throw new LoadTestError('SETUP_FAILED', `janus exited while starting: ${stderr.trim()} ${log.trim()}`.trim());
    }
    try {
      const res = await fetch(`${url}/info`, { signal: AbortSignal.timeout(opts.slow ? 5000 : 1000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) {
      await stop();
      throw new LoadTestError('SETUP_FAILED', `janus did not answer on ${url} within ${readyTimeoutMs / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const adminUrl = adminPort ? `http://127.0.0.1:${adminPort}/admin` : undefined;
  return { url, pid: child.pid!, dir, logFile, iceIp, ...(adminUrl ? { adminUrl } : {}), child, stop };
}

/** Cumulative user + system CPU seconds of a process and all its threads, from /proc/<pid>/stat. */
export function processCpuSec(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces), so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / 100;
  } catch {
    return undefined;
  }
}
