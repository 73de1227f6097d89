/**
 * A network namespace of a test's own, joined to the host by a veth pair, for
 * putting one browser behind a weak or broken link: `tc … tbf` rate limits on
 * both ends (netem is not available on these machines), the link taken down
 * and up. Names carry a random suffix so parallel runs never collide; always
 * `destroy()` it (afterAll), which also removes the veth pair.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import puppeteer from 'puppeteer';
import { CHROMIUM_FLAGS, type Chromium } from './browser.js';

const run = promisify(execFile);

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

export interface NetNs {
  readonly name: string;
  /** The host side's address: the server listens here, the namespace reaches it over the veth. */
  readonly hostIp: string;
  /** The namespace side's address. */
  readonly nsIp: string;
  /** Limits both directions to `kbit` kbit/s (tbf, a burst of one full packet, `latencyMs` of queue). */
  limit(kbit: number, latencyMs?: number): Promise<void>;
  /** Removes the rate limits. */
  unlimit(): Promise<void>;
  /** Takes the link down (true) or brings it back (false). */
  setDown(down: boolean): Promise<void>;
  /** Starts Chromium inside the namespace, treating `origin` (http://hostIp:port) as a secure context. */
  launchChromium(origin: string): Promise<Chromium>;
  destroy(): Promise<void>;
}

export async function createNetNs(): Promise<NetNs> {
  if (process.getuid?.() !== 0)
    throw new Error('network namespaces and tc need root: run the weak-network tests as root');
  const suffix = randomBytes(3).toString('hex');
  const name = `hz-${suffix}`;
  // Interface names are limited to 15 characters.
  const hostIf = `hzh${suffix}`;
  const nsIf = `hzn${suffix}`;
  const a = 16 + (randomBytes(1)[0]! % 200);
  const b = randomBytes(1)[0]! % 250;
  const hostIp = `10.${a}.${b}.1`;
  const nsIp = `10.${a}.${b}.2`;
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'huizhen-netns-'));
  let browsers: Chromium[] = [];

  const destroy = async (): Promise<void> => {
    for (const c of browsers) await c.close().catch(() => {});
    browsers = [];
    await ip('netns', 'del', name).catch(() => {});
    // Deleting the namespace deletes its end of the pair, and with it the host end.
    await ip('link', 'del', hostIf).catch(() => {});
    await rm(scratch, { recursive: true, force: true });
  };

  try {
    await ip('netns', 'add', name);
    await ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
    await ip('link', 'set', nsIf, 'netns', name);
    await ip('addr', 'add', `${hostIp}/30`, 'dev', hostIf);
    await ip('link', 'set', hostIf, 'up');
    await ip('netns', 'exec', name, 'ip', 'addr', 'add', `${nsIp}/30`, 'dev', nsIf);
    await ip('netns', 'exec', name, 'ip', 'link', 'set', nsIf, 'up');
    await ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  } catch (err) {
    await destroy();
    throw err;
  }

  const tc = async (inside: boolean, ...args: string[]) => {
    const dev = inside ? nsIf : hostIf;
    const cmd = ['qdisc', ...args.map((x) => (x === '$DEV' ? dev : x))];
    if (inside) await run('ip', ['netns', 'exec', name, 'tc', ...cmd]);
    else await run('tc', cmd);
  };

  return {
    name,
    hostIp,
    nsIp,
    async limit(kbit, latencyMs = 400) {
      for (const inside of [false, true]) {
        // burst 1600 bytes: one full packet, the smallest that lets large packets through.
        const spec = ['root', 'tbf', 'rate', `${kbit}kbit`, 'burst', '1600', 'latency', `${latencyMs}ms`];
        await tc(inside, 'replace', 'dev', '$DEV', ...spec);
      }
    },
    async unlimit() {
      for (const inside of [false, true]) await tc(inside, 'del', 'dev', '$DEV', 'root').catch(() => {});
    },
    async setDown(down) {
      const state = down ? 'down' : 'up';
      await ip('link', 'set', hostIf, state);
      await ip('netns', 'exec', name, 'ip', 'link', 'set', nsIf, state);
    },
    async launchChromium(origin) {
      const wrapper = path.join(scratch, 'chromium-in-netns.sh');
      const chromium = process.env.HUIZHEN_CHROMIUM ?? '/usr/bin/chromium';
      await writeFile(wrapper, `#!/bin/sh\nexec ip netns exec ${name} ${chromium} "$@"\n`);
      await chmod(wrapper, 0o755);
      const userDataDir = await mkdtemp(path.join(scratch, 'chromium-'));
      const browser = await puppeteer.launch({
        executablePath: wrapper,
        headless: true,
        // DevTools over a pipe: no TCP port inside the namespace for puppeteer to reach.
        pipe: true,
        args: [
          ...CHROMIUM_FLAGS,
          `--user-data-dir=${userDataDir}`,
          `--unsafely-treat-insecure-origin-as-secure=${origin}`,
        ],
        protocolTimeout: 90_000,
      });
      const handle: Chromium = {
        browser,
        async close() {
          await browser.close().catch(() => {});
        },
      };
      browsers.push(handle);
      return handle;
    },
    destroy,
  };
}

/** Chromium on the host (good line) that may load pages from `origin` as if it were secure. */
export async function launchHostChromium(origin: string): Promise<Chromium> {
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'huizhen-e2e-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: process.env.HUIZHEN_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_FLAGS, `--user-data-dir=${userDataDir}`, `--unsafely-treat-insecure-origin-as-secure=${origin}`],
    protocolTimeout: 60_000,
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => {});
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
