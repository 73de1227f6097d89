/**
 * Real Chromium for Huizhen's browser tests: Debian's /usr/bin/chromium with
 * fake camera/microphone devices, driven by puppeteer, plus helpers to open the
 * demo page and join a consult through its UI like a user would.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { GiveUp, waitFor } from './wait.js';

export const CHROMIUM_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  // A synthetic camera (moving pattern) and microphone (periodic beep), granted without a prompt.
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--autoplay-policy=no-user-gesture-required',
];

export interface Chromium {
  browser: Browser;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Chromium> {
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'huizhen-e2e-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: process.env.HUIZHEN_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_FLAGS, `--user-data-dir=${userDataDir}`],
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

/** A demo page plus everything it printed, for failure messages. */
export interface DemoPage {
  page: Page;
  label: string;
  console: string[];
  /** The identity the page joined as (set by joinViaUi). */
  identity: string;
}

/**
 * Opens the demo in its own browser context (separate storage, like another
 * person's browser) with a laptop-sized viewport. `path` may carry a query or
 * a #token= fragment.
 */
export async function openDemo(chromium: Chromium, baseUrl: string, label: string, path = '/'): Promise<DemoPage> {
  const context = await chromium.browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width: 1024, height: 700 });
  const demo: DemoPage = { page, label, console: [], identity: '' };
  page.on('console', (msg) => demo.console.push(`[${msg.type()}] ${msg.text()}`));
  page.on('pageerror', (err) => demo.console.push(`[pageerror] ${err instanceof Error ? err.message : String(err)}`));
  page.on('requestfailed', (req) => demo.console.push(`[requestfailed] ${req.url()} ${req.failure()?.errorText ?? ''}`));
  await page.goto(`${baseUrl}${path}`, { waitUntil: 'load' });
  return demo;
}

export interface JoinAs {
  name: string;
  role: string;
  room: string;
}

/**
 * Fills in the join form and presses Join, then waits until the demo reports
 * a connected call with camera and microphone published.
 */
export async function joinViaUi(demo: DemoPage, who: JoinAs): Promise<string> {
  const { page } = demo;
  await page.waitForSelector('[data-testid="join-button"]:not([disabled])');
  await replaceText(page, '[data-testid="join-name"]', who.name);
  await page.select('[data-testid="join-role"]', who.role);
  await replaceText(page, '[data-testid="join-room"]', who.room);
  await page.click('[data-testid="join-button"]');

  const state = await waitFor(
    `${demo.label} to join room ${who.room}`,
    async () => {
      const seen = await page.evaluate(() => {
        const joinError = document.querySelector<HTMLElement>('[data-testid="join-error"]');
        const s = window.huizhen?.state;
        return {
          failed: joinError && !joinError.hidden ? joinError.textContent : null,
          joined: Boolean(s && s.phase === 'in-call' && s.connectionState === 'connected' && s.mic && s.camera),
          identity: s?.identity ?? '',
        };
      });
      // The form shows a sentence when joining failed or the call ended: no point waiting on.
      if (seen.failed) throw new GiveUp(`${demo.label} could not join: ${seen.failed}\n${await describePage(demo)}`);
      return seen.joined ? { identity: seen.identity } : undefined;
    },
    { timeoutMs: 30_000, describe: () => describePage(demo) },
  );
  demo.identity = state.identity;
  return state.identity;
}

/** What a demo page shows right now: status line, state and recent console, for failure messages. */
export async function describePage(demo: DemoPage): Promise<string> {
  const seen = await demo.page
    .evaluate(() => ({
      status: document.querySelector('[data-testid="status"]')?.textContent,
      statusError: document.querySelector('[data-testid="status-error"]')?.textContent,
      joinError: document.querySelector('[data-testid="join-error"]')?.textContent,
      state: window.huizhen?.state ?? null,
      tiles: [...document.querySelectorAll<HTMLElement>('[data-identity]')].map((t) => ({ ...t.dataset })),
    }))
    .catch((err: unknown) => ({ unavailable: String(err) }));
  return `${demo.label}: ${JSON.stringify(seen)}\n  console:\n    ${demo.console.slice(-20).join('\n    ')}`;
}

async function replaceText(page: Page, selector: string, text: string): Promise<void> {
  await page.$eval(selector, (el) => ((el as HTMLInputElement).value = ''));
  await page.type(selector, text);
}

/** The demo's test hook (see demo/public/app.js). */
export interface DemoEvent {
  type: string;
  identity?: string;
  kind?: string;
  source?: string;
  detail?: string;
  at: number;
}

export interface DemoState {
  phase: 'joining' | 'in-call' | 'ended';
  connectionState: string;
  admission: 'admitted' | 'waiting';
  room: string;
  identity: string;
  name: string;
  role: string;
  mic: boolean;
  camera: boolean;
  screen: boolean;
  activeSpeaker: string | null;
  lastError: string | null;
  endReason: string | null;
  events: DemoEvent[];
}

declare global {
  interface Window {
    huizhen?: { room: unknown; state: DemoState };
  }
}

export async function demoEvents(demo: DemoPage): Promise<DemoEvent[]> {
  return demo.page.evaluate(() => window.huizhen?.state.events ?? []);
}
