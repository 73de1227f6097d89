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
export async function openDemo(
  chromium: Chromium,
  baseUrl: string,
  label: string,
  path = '/',
  {
    viewport = { width: 1024, height: 700 },
  }: { viewport?: { width: number; height: number; isMobile?: boolean; hasTouch?: boolean } } = {},
): Promise<DemoPage> {
  const context = await chromium.browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport(viewport);
  // Keep a hand on every peer connection the page makes, so probes can ask the
  // browser itself what it received and decoded (see probes.ts, receivedMedia).
  await page.evaluateOnNewDocument(() => {
    const w = window as unknown as { __hzPeerConnections?: RTCPeerConnection[] };
    const list: RTCPeerConnection[] = (w.__hzPeerConnections = []);
    window.RTCPeerConnection = new Proxy(window.RTCPeerConnection, {
      construct(target, args, newTarget) {
        const pc = Reflect.construct(target, args, newTarget) as RTCPeerConnection;
        list.push(pc);
        return pc;
      },
    });
  });
  const demo: DemoPage = { page, label, console: [], identity: '' };
  page.on('console', (msg) => demo.console.push(`[${msg.type()}] ${msg.text()}`));
  page.on('pageerror', (err) => demo.console.push(`[pageerror] ${err instanceof Error ? err.message : String(err)}`));
  page.on('requestfailed', (req) =>
    demo.console.push(`[requestfailed] ${req.url()} ${req.failure()?.errorText ?? ''}`),
  );
  await page.goto(`${baseUrl}${path}`, { waitUntil: 'load' });
  return demo;
}

export interface JoinAs {
  name: string;
  role: string;
  room: string;
  /** Room type a clinician's token opens (the form's "Room type"). */
  kind?: 'consult' | 'clinic' | 'rounds';
  /** Start with the camera / microphone on (the form's "When I join" boxes); both on by default. */
  camera?: boolean;
  mic?: boolean;
}

/** Fills in the join form (name, role, room, room type, camera and microphone boxes) and presses Join. */
export async function submitJoinForm(demo: DemoPage, who: JoinAs): Promise<void> {
  const { page } = demo;
  await page.waitForSelector('[data-testid="join-button"]:not([disabled])');
  await replaceText(page, '[data-testid="join-name"]', who.name);
  await page.select('[data-testid="join-role"]', who.role);
  await replaceText(page, '[data-testid="join-room"]', who.room);
  if (who.kind) await page.select('[data-testid="join-kind"]', who.kind);
  await setJoinMedia(demo, who);
  await page.click('[data-testid="join-button"]');
}

/** Sets the form's camera and microphone boxes (also shown when joining with a link token). */
export async function setJoinMedia(
  demo: DemoPage,
  { camera = true, mic = true }: { camera?: boolean; mic?: boolean },
): Promise<void> {
  await demo.page.$eval('[data-testid="join-camera"]', (el, on) => ((el as HTMLInputElement).checked = on), camera);
  await demo.page.$eval('[data-testid="join-mic"]', (el, on) => ((el as HTMLInputElement).checked = on), mic);
}

/**
 * Fills in the join form and presses Join, then waits until the demo reports
 * a connected call with the requested camera and microphone published.
 */
export async function joinViaUi(demo: DemoPage, who: JoinAs): Promise<string> {
  await submitJoinForm(demo, who);
  return waitInCall(demo, { camera: who.camera ?? true, mic: who.mic ?? true, what: `join room ${who.room}` });
}

/**
 * Waits until the page is in the call (admitted, connected) with camera and
 * microphone as asked; stops at once if the page says joining failed.
 */
export async function waitInCall(
  demo: DemoPage,
  {
    camera = true,
    mic = true,
    admission = 'admitted',
    what = 'be in the call',
    timeoutMs = 30_000,
  }: { camera?: boolean; mic?: boolean; admission?: 'admitted' | 'waiting'; what?: string; timeoutMs?: number } = {},
): Promise<string> {
  const { page } = demo;
  const state = await waitFor(
    `${demo.label} to ${what}`,
    async () => {
      const seen = await page.evaluate(() => {
        const joinError = document.querySelector<HTMLElement>('[data-testid="join-error"]');
        const s = window.huizhen?.state;
        return {
          failed: joinError && !joinError.hidden ? joinError.textContent : null,
          phase: s?.phase,
          connected: s?.connectionState === 'connected',
          admission: s?.admission,
          mic: s?.mic,
          camera: s?.camera,
          identity: s?.identity ?? '',
        };
      });
      // The form shows a sentence when joining failed or the call ended: no point waiting on.
      if (seen.failed) throw new GiveUp(`${demo.label} could not ${what}: ${seen.failed}\n${await describePage(demo)}`);
      const media = admission === 'waiting' || (seen.mic === mic && seen.camera === camera);
      return seen.phase === 'in-call' && seen.connected && seen.admission === admission && media
        ? { identity: seen.identity }
        : undefined;
    },
    { timeoutMs, describe: () => describePage(demo) },
  );
  demo.identity = state.identity;
  return state.identity;
}

/**
 * The sentence the start page shows after joining failed or the call ended
 * (null while none); for a patient whose consult ended, the rating page shows it.
 */
export async function joinMessage(demo: DemoPage): Promise<string | null> {
  return demo.page.evaluate(() => {
    // --- evaluation: the rating page a patient sees after the end
    for (const testid of ['join-error', 'evaluation-reason']) {
      const el = document.querySelector<HTMLElement>(`[data-testid="${testid}"]`);
      if (el && !el.hidden && !el.closest('[hidden]') && el.textContent) return el.textContent;
    }
    return null;
  });
}

/** Clicks the element matching `selector` inside the tile of `identity`. */
export async function clickInTile(demo: DemoPage, identity: string, selector: string): Promise<void> {
  const tile = await demo.page.waitForSelector(`[data-testid="tile"][data-identity="${identity}"]`);
  await tile!.hover();
  const target = await tile!.waitForSelector(selector, { visible: true });
  await target!.click();
}

/** Answers the open dialog: fills text fields / checkboxes by name, then confirms. */
export async function answerDialog(
  demo: DemoPage,
  testid: string,
  fields: Record<string, string | boolean> = {},
): Promise<void> {
  const { page } = demo;
  const dialog = await page.waitForSelector(`dialog[data-testid="${testid}"][open]`, { visible: true });
  for (const [name, value] of Object.entries(fields)) {
    const selector = `[data-testid="dialog-field-${name}"]`;
    if (typeof value === 'boolean') {
      await dialog!.$eval(
        selector,
        (el, on) => {
          const box = el as HTMLInputElement;
          if (box.checked !== on) box.click();
        },
        value,
      );
    } else {
      await dialog!.$eval(selector, (el) => ((el as HTMLInputElement).value = ''));
      const input = await dialog!.$(selector);
      await input!.type(value);
    }
  }
  await (await dialog!.$('[data-testid="dialog-confirm"]'))!.click();
  await page.waitForSelector(`dialog[data-testid="${testid}"]`, { hidden: true });
}

/** Opens a side-panel tab (waiting room, chat, records, opinion). */
export async function openTab(demo: DemoPage, name: 'people' | 'chat' | 'records' | 'opinion'): Promise<void> {
  const tab = await demo.page.waitForSelector(`[data-testid="tab-${name}"]`, { visible: true });
  const selected = await tab!.evaluate(
    (el) => el.getAttribute('aria-selected') === 'true' && el.closest('aside')?.dataset.open === 'true',
  );
  if (!selected) await tab!.click();
  await demo.page.waitForSelector(`[data-testid="panel-${name}"]`, { visible: true });
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

/**
 * For a failed test's afterEach: every page as describePage sees it, any extra
 * sections (title → text), then the server's last log lines — everything
 * needed to tell a demo bug from a server or SDK bug.
 */
export async function reportFailure(
  pages: readonly (DemoPage | undefined)[],
  server: { tail(n?: number): string } | undefined,
  extra: Record<string, string> = {},
): Promise<void> {
  const seen = await Promise.all(pages.filter((p): p is DemoPage => p !== undefined).map((p) => describePage(p)));
  const sections = Object.entries(extra).map(([title, text]) => `--- ${title} ---\n${text}\n`);
  console.error(
    `--- pages ---\n${seen.join('\n')}\n${sections.join('')}--- server log ---\n${server?.tail(60) ?? '(no server)'}`,
  );
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

export interface ViewerState {
  recordId: string;
  name: string;
  type: string;
  presenter: string;
  presenting: boolean;
  following: boolean;
  /** The view in effect on this page (the presenter's while following). */
  view: {
    page: number;
    zoom: number;
    panX: number;
    panY: number;
    rotation: number;
    windowCenter: number | null;
    windowWidth: number | null;
    version: number;
  };
  pageCount: number;
  /** What the canvas last finished drawing. */
  rendered: { recordId: string; page: number; zoom: number; rotation: number } | null;
  /** Marks drawn on the page shown, and on the record in all. */
  marksOnPage: number;
  marks: number;
  error: string | null;
}

export interface DemoState {
  phase: 'joining' | 'in-call' | 'ended';
  connectionState: string;
  admission: 'admitted' | 'waiting';
  room: string;
  kind: string;
  locked: boolean;
  identity: string;
  name: string;
  role: string;
  mic: boolean;
  camera: boolean;
  screen: boolean;
  mutedByHost: { allowUnmute: boolean; by: string } | null;
  activeSpeaker: string | null;
  banner: string | null;
  reconnecting: string[];
  waiting: { identity: string; name: string; role: string; since: number }[];
  chat: { seq: number; from: string; to: string; text: string }[];
  opinions: { identity: string; version: number; text: string }[];
  records: { id: string; name: string; type: string; visibility: string }[];
  viewer: ViewerState | null;
  summary: unknown;
  lastError: string | null;
  endReason: string | null;
  events: DemoEvent[];
  /** Connection quality the page was told, by identity (its own and, for clinicians, everyone's). */
  quality: Record<string, { quality: string; audioOnly: boolean; directions: string[] }>;
}

declare global {
  interface Window {
    huizhen?: { room: unknown; state: DemoState };
  }
}

export async function demoEvents(demo: DemoPage): Promise<DemoEvent[]> {
  return demo.page.evaluate(() => window.huizhen?.state.events ?? []);
}

/** The demo's test-hook state (null before joining). */
export async function demoState(demo: DemoPage): Promise<DemoState | null> {
  return demo.page.evaluate(() => {
    const s = window.huizhen?.state;
    return s ? (JSON.parse(JSON.stringify(s)) as DemoState) : null;
  });
}
