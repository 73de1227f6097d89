/**
 * Joining through the demo: the ways in (dev token, token in the link), the
 * waiting room, and what happens when the server will not issue demo tokens.
 * Observers and waiting patients publish nothing, so these run light.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describePage, launchChromium, openDemo, type Chromium, type DemoPage } from './helpers/browser.js';
import { startServer, type HuizhenServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

let chromium: Chromium | undefined;
const servers: HuizhenServer[] = [];
const pages: DemoPage[] = [];

beforeAll(async () => {
  chromium = await launchChromium();
});

afterAll(async () => {
  await chromium?.close();
  await Promise.all(servers.map((s) => s.stop()));
});

async function server(env?: Record<string, string>): Promise<HuizhenServer> {
  const s = await startServer({ env });
  servers.push(s);
  return s;
}

async function page(baseUrl: string, label: string, path = '/'): Promise<DemoPage> {
  const p = await openDemo(chromium!, baseUrl, label, path);
  pages.push(p);
  return p;
}

/** Who a page shows in its tiles: identity, name and role label, as the user reads them. */
function tilesOf(demo: DemoPage) {
  return demo.page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('[data-testid="tile"]')].map((t) => ({
      identity: t.dataset.identity,
      name: t.querySelector('[data-testid="tile-name"]')?.textContent,
      role: t.querySelector('[data-testid="tile-role"]')?.textContent,
    })),
  );
}

describe('joining a consult from the demo', () => {
  let base: HuizhenServer;

  beforeAll(async () => {
    base = await server();
  });

  it('renders participant names as text, never as markup', async () => {
    const room = `e2e-names-${Date.now().toString(36)}`;
    const hostile = '<img src=x onerror="window.__hzInjected=1">Dr <b>Bold</b>';
    const a = await page(base.url, 'observer A');
    const b = await page(base.url, 'observer B');
    await joinObserver(a, 'Plain Observer', room);
    await joinObserver(b, hostile, room);

    const seen = await waitFor(
      'observer A to show observer B',
      async () => {
        const tiles = await tilesOf(a);
        return tiles.find((t) => t.identity === b.identity);
      },
      { describe: () => describePage(a) },
    );
    expect(seen).toEqual({ identity: b.identity, name: hostile, role: 'Observer' });
    for (const p of [a, b]) {
      const injected = await p.page.evaluate(() => ({
        images: document.querySelectorAll('#tiles img, #tiles b').length,
        ran: (window as unknown as { __hzInjected?: number }).__hzInjected ?? null,
      }));
      expect(injected, `${p.label}: no element made from a name, no script run`).toEqual({ images: 0, ran: null });
    }
  });

  it('joins with a token carried in the link and keeps it out of the address bar', async () => {
    const room = `e2e-link-${Date.now().toString(36)}`;
    const response = await fetch(`${base.url}/api/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identity: 'link-observer', name: 'Link Observer', role: 'observer', room }),
    });
    expect(response.status).toBe(200);
    const { token } = (await response.json()) as { token: string };

    const demo = await page(base.url, 'link observer', `/#token=${encodeURIComponent(token)}`);
    const form = await demo.page.evaluate(() => ({
      url: location.href,
      fieldsHidden: document.getElementById('join-fields')?.hidden,
      noteShown: !document.querySelector<HTMLElement>('[data-testid="join-link-note"]')?.hidden,
    }));
    expect(form.url).not.toContain(token);
    expect(form).toMatchObject({ fieldsHidden: true, noteShown: true });

    await demo.page.click('[data-testid="join-button"]');
    const state = await waitFor(
      'the link observer to be in the call',
      () => demo.page.evaluate(() => (window.huizhen?.state.phase === 'in-call' ? window.huizhen.state : undefined)),
      { describe: () => describePage(demo) },
    );
    expect(state).toMatchObject({ identity: 'link-observer', name: 'Link Observer', role: 'observer', room });
    expect(await demo.page.$eval('[data-testid="room-name"]', (el) => el.textContent)).toBe(`Room ${room}`);
  });

  it('holds a patient in the waiting room without publishing', async () => {
    const room = `e2e-wait-${Date.now().toString(36)}`;
    const patient = await page(base.url, 'patient');
    await patient.page.waitForSelector('[data-testid="join-button"]:not([disabled])');
    await patient.page.$eval('[data-testid="join-name"]', (el) => ((el as HTMLInputElement).value = 'Wang Fang'));
    await patient.page.select('[data-testid="join-role"]', 'patient');
    await patient.page.$eval('[data-testid="join-room"]', (el, r) => ((el as HTMLInputElement).value = r), room);
    await patient.page.click('[data-testid="join-button"]');

    const seen = await waitFor(
      'the patient to be told about the waiting room',
      () =>
        patient.page.evaluate(() => {
          const notice = document.querySelector<HTMLElement>('[data-testid="call-notice"]');
          const s = window.huizhen?.state;
          return s?.admission === 'waiting' && notice && !notice.hidden
            ? {
                notice: notice.textContent,
                mic: s.mic,
                camera: s.camera,
                micButtonDisabled: document.querySelector<HTMLButtonElement>('[data-testid="mic-button"]')?.disabled,
              }
            : undefined;
        }),
      { describe: () => describePage(patient) },
    );
    expect(seen.notice).toMatch(/waiting room/i);
    expect(seen).toMatchObject({ mic: false, camera: false, micButtonDisabled: true });
  });
});

describe('a server without dev tokens', () => {
  it('says plainly that the demo cannot get a token', async () => {
    const locked = await server({ HUIZHEN_DEV_TOKENS: 'false' });
    const demo = await page(locked.url, 'no-dev-tokens', '/?name=Dr%20Zhang&role=doctor&room=locked-1');
    await demo.page.click('[data-testid="join-button"]');
    const message = await waitFor('the join form to explain', () =>
      demo.page.evaluate(() => {
        const el = document.querySelector<HTMLElement>('[data-testid="join-error"]');
        return el && !el.hidden ? el.textContent : undefined;
      }),
    );
    expect(message).toMatch(/dev tokens are disabled/);
    expect(await demo.page.evaluate(() => window.huizhen === undefined)).toBe(true);
  });
});

/** Observers publish nothing, so joinViaUi's wait for mic and camera does not apply. */
async function joinObserver(demo: DemoPage, name: string, room: string): Promise<void> {
  const { page: p } = demo;
  await p.waitForSelector('[data-testid="join-button"]:not([disabled])');
  await p.$eval('[data-testid="join-name"]', (el, v) => ((el as HTMLInputElement).value = v), name);
  await p.select('[data-testid="join-role"]', 'observer');
  await p.$eval('[data-testid="join-room"]', (el, v) => ((el as HTMLInputElement).value = v), room);
  await p.click('[data-testid="join-button"]');
  demo.identity = await waitFor(
    `${demo.label} to join`,
    () =>
      p.evaluate(() =>
        window.huizhen?.state.phase === 'in-call' && window.huizhen.state.connectionState === 'connected'
          ? window.huizhen.state.identity
          : undefined,
      ),
    { describe: () => describePage(demo) },
  );
}
