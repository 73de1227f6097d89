/**
 * The React example as a hospital's developer gets it: the packages packed
 * from this checkout (their prepack builds them), examples/react-consult
 * copied outside the repository and installed from those tarballs plus the
 * npm registry, type-checked and built with Vite, then served by `vite
 * preview` with the README's proxy in front of a real Huizhen server. A doctor
 * and a patient in two real Chromiums (fake camera and microphone): the
 * patient waits, the doctor admits, each decodes the other's moving picture
 * and hears the other, a shared record shows up on both sides, a mute is
 * silence on the far side, and leaving ends the patient's view. The example
 * runs in StrictMode, so the server must have seen one join per person.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePng } from '../server/src/records/testFiles.js';
import { launchChromium, type Chromium } from './helpers/browser.js';
import { SILENCE_RMS } from './helpers/mediaFlow.js';
import { freePort, REPO_ROOT, startServer, type HuizhenServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

const execFileP = promisify(execFile);

/**
 * The environment of a developer's shell: without what vitest sets for itself
 * (NODE_ENV=test would make Vite bundle React's development build).
 */
function developerEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key === 'NODE_ENV' || key.startsWith('VITEST')) delete env[key];
  return env;
}

/** Runs a command; a failure carries the command's own output (tsc's and Vite's errors). */
async function run(
  command: string,
  args: string[],
  options: { cwd: string; maxBuffer?: number; timeout?: number },
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileP(command, args, { maxBuffer: 16 * 1024 * 1024, env: developerEnv(), ...options });
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${e.stdout ?? ''}\n${e.stderr ?? ''}`.slice(0, 8_000), {
      cause: error,
    });
  }
}

const EXAMPLE = path.join(REPO_ROOT, 'examples/react-consult');
const PACKAGES = ['protocol', 'client-sdk', 'react'] as const;
const ROOM = 'react-example-1';

interface Packed {
  name: string;
  filename: string;
}

async function pack(workspace: string, into: string): Promise<Packed> {
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', into], {
    cwd: path.join(REPO_ROOT, workspace),
  });
  // prepack's own output comes before npm's JSON.
  const [result] = JSON.parse(stdout.slice(stdout.indexOf('\n[') + 1)) as Packed[];
  return result!;
}

/** The remote tile's decoded frames over `ms`, and its size. */
async function remoteFrames(page: Page, ms: number): Promise<{ frames: number; width: number }> {
  return page.evaluate(async (ms) => {
    const video = document.querySelector<HTMLVideoElement>('.huizhen-tile[data-local="false"] video');
    if (!video || video.videoWidth === 0) return { frames: 0, width: 0 };
    const before = video.getVideoPlaybackQuality().totalVideoFrames;
    await new Promise((r) => setTimeout(r, ms));
    return { frames: video.getVideoPlaybackQuality().totalVideoFrames - before, width: video.videoWidth };
  }, ms);
}

/** The loudest moment of the remote microphone over `ms` (RMS of 2048-sample windows). */
async function remotePeakRms(page: Page, ms: number): Promise<number> {
  return page.evaluate(async (ms) => {
    const audio = document.querySelector<HTMLAudioElement>('.huizhen-room-audio audio[data-source="microphone"]');
    const stream = audio?.srcObject;
    if (!(stream instanceof MediaStream) || stream.getAudioTracks().length === 0) return 0;
    const context = new AudioContext();
    await context.resume();
    const analyser = context.createAnalyser();
    analyser.fftSize = 2048;
    context.createMediaStreamSource(stream).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    let peak = 0;
    const end = Date.now() + ms;
    while (Date.now() < end) {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      peak = Math.max(peak, Math.sqrt(sum / samples.length));
      await new Promise((r) => setTimeout(r, 50));
    }
    await context.close();
    return peak;
  }, ms);
}

describe('examples/react-consult, installed from the packed tarballs', { timeout: 600_000 }, () => {
  let tmp: string;
  let app: string;
  let server: HuizhenServer;
  let preview: ChildProcess | undefined;
  let previewUrl: string;
  const previewLog: string[] = [];
  let doctorBrowser: Chromium | undefined;
  let patientBrowser: Chromium | undefined;
  let doctor: Page;
  let patient: Page;
  const pageLog: string[] = [];

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'huizhen-react-example-'));
    const tarballs = new Map<string, string>();
    for (const workspace of PACKAGES) {
      const packed = await pack(workspace, tmp);
      tarballs.set(packed.name, path.join(tmp, packed.filename));
    }
    app = path.join(tmp, 'react-consult');
    await cp(EXAMPLE, app, {
      recursive: true,
      filter: (source) => !/[\\/](node_modules|dist)([\\/]|$)/.test(path.relative(EXAMPLE, source)),
    });
    // What `npm install ./huizhen-*.tgz` writes into a developer's package.json.
    const manifestPath = path.join(app, 'package.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { dependencies: Record<string, string> };
    for (const [name, file] of tarballs) {
      expect(manifest.dependencies[name], `the example depends on ${name}`).toBeDefined();
      manifest.dependencies[name] = `file:${file}`;
    }
    await writeFile(manifestPath, JSON.stringify(manifest, null, 2));
    await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, timeout: 300_000 });
  }, 600_000);

  afterAll(async () => {
    await patientBrowser?.close();
    await doctorBrowser?.close();
    preview?.kill('SIGTERM');
    await server?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('type-checks and builds with Vite', async () => {
    await run('npm', ['run', 'typecheck'], { cwd: app });
    const { stdout, stderr } = await run('npm', ['run', 'build'], { cwd: app });
    const assets = path.join(app, 'dist', 'assets');
    const chunks = await Promise.all(
      (await readdir(assets))
        .filter((f) => f.endsWith('.js'))
        .map(async (f) => (await stat(path.join(assets, f))).size),
    );
    expect(chunks.length).toBeGreaterThan(0);
    // Vite warns about chunks over 500 kB: the SDK must not push a React app there.
    expect(Math.max(...chunks)).toBeLessThan(500_000);
    expect(`${stdout}\n${stderr}`).not.toMatch(/larger than 500 kB/);
    console.info(
      `react example build:\n${stdout
        .split('\n')
        .filter((l) => l.includes('dist/'))
        .join('\n')}`,
    );
  }, 300_000);

  it('serves the built app behind the proxy of the README', async () => {
    server = await startServer();
    const port = await freePort();
    preview = spawn(
      process.execPath,
      [
        path.join(app, 'node_modules/vite/bin/vite.js'),
        'preview',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--strictPort',
      ],
      { cwd: app, env: { ...developerEnv(), HUIZHEN_URL: server.url }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    for (const stream of [preview.stdout!, preview.stderr!])
      stream.on('data', (chunk: Buffer) => previewLog.push(...chunk.toString().split('\n').filter(Boolean)));
    previewUrl = `http://localhost:${port}`;
    await waitFor(
      'vite preview to answer',
      async () =>
        (await fetch(previewUrl)
          .then((r) => r.ok)
          .catch(() => false)) || undefined,
      { timeoutMs: 30_000, describe: async () => previewLog.join('\n') },
    );
    // The proxy reaches Huizhen: the dev token endpoint answers through the app's origin.
    const token = await fetch(`${previewUrl}/api/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identity: 'probe', name: 'Probe', role: 'observer', room: 'probe' }),
    });
    expect(token.status).toBe(200);
  });

  async function open(browser: Chromium, label: string, query: string): Promise<Page> {
    const page = await browser.browser.newPage();
    page.on('console', (m) => pageLog.push(`[${label}] ${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => pageLog.push(`[${label}] pageerror: ${String(e)}`));
    await page.goto(`${previewUrl}/?${query}`);
    return page;
  }

  const describePages = async () => `${pageLog.slice(-30).join('\n')}\n--- server\n${server.tail(30)}`;

  it('a patient waits, the doctor admits, and each decodes and hears the other', async () => {
    [doctorBrowser, patientBrowser] = await Promise.all([launchChromium(), launchChromium()]);
    doctor = await open(doctorBrowser, 'doctor', `role=doctor&room=${ROOM}&name=Dr%20Li&identity=dr-li`);
    await doctor.waitForSelector('[data-testid="consult"]', { timeout: 30_000 });
    patient = await open(patientBrowser, 'patient', `role=patient&room=${ROOM}&name=Wang%20Fang&identity=pt-wang`);
    await patient.waitForSelector('[data-testid="lobby"]', { timeout: 30_000 });

    const admit = await doctor.waitForSelector('li[data-identity="pt-wang"] button::-p-text(Admit)', {
      timeout: 30_000,
    });
    await admit!.click();
    await patient.waitForSelector('[data-testid="consult"]', { timeout: 30_000 });

    for (const [viewer, label] of [
      [doctor, 'the doctor'],
      [patient, 'the patient'],
    ] as const) {
      const seen = await waitFor(
        `${label} to decode the other's moving picture`,
        async () => {
          const f = await remoteFrames(viewer, 2_000);
          return f.frames >= 4 && f.width > 0 ? f : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 500, describe: describePages },
      );
      const heard = await waitFor(
        `${label} to hear the other`,
        async () => {
          const rms = await remotePeakRms(viewer, 3_000);
          return rms > SILENCE_RMS ? rms : undefined;
        },
        { timeoutMs: 30_000, describe: describePages },
      );
      console.info(`${label}: ${seen.frames} frames in 2 s at ${seen.width} px wide, peak RMS ${heard.toFixed(3)}`);
    }

    // StrictMode mounted <HuizhenRoom> twice on each page: still one join each.
    const joins = (who: string) =>
      server.logs.filter((l) => l.includes('"participant joined"') && l.includes(`"participant":"${who}"`)).length;
    expect(joins('dr-li')).toBe(1);
    expect(joins('pt-wang')).toBe(1);
    expect(server.logs.some((l) => l.includes('duplicateIdentity') || l.includes('DUPLICATE_IDENTITY'))).toBe(false);
  }, 240_000);

  it('a record the doctor shares is listed on both sides', async () => {
    const file = path.join(tmp, 'wound-photo.png');
    await writeFile(file, makePng(64, 48));
    const input = await doctor.waitForSelector('input[data-testid="record-file"]');
    await input!.uploadFile(file);
    for (const page of [doctor, patient]) {
      await page.waitForSelector('[data-testid="records"] ::-p-text(wound-photo.png)', { timeout: 30_000 });
    }
    // Patients may not share records: no upload control on their side.
    expect(await patient.$('[data-testid="record-file"]')).toBeNull();
  });

  it('the patient’s mute is silence on the doctor’s side, and leaving ends the patient’s view', async () => {
    const mute = await patient.waitForSelector('[data-control="microphone"][aria-pressed="true"]:not([disabled])');
    await mute!.click();
    await patient.waitForSelector('[data-control="microphone"][aria-pressed="false"]');
    await waitFor(
      'the doctor to hear silence from the muted patient',
      async () => ((await remotePeakRms(doctor, 2_000)) < SILENCE_RMS ? true : undefined),
      { timeoutMs: 20_000, describe: describePages },
    );

    await (await patient.waitForSelector('[data-control="leave"]'))!.click();
    await patient.waitForSelector('[data-testid="ended"]', { timeout: 20_000 });
    await doctor.waitForFunction(() => !document.querySelector('.huizhen-tile[data-local="false"]'), {
      timeout: 20_000,
    });
  });
});
