/**
 * The package as a hospital's developer installs it: `npm pack` in protocol/,
 * client-sdk/ and react/ (their prepack builds dist/, as from a fresh clone), then the
 * tarballs' file lists, their types (no `@internal` member), their source maps
 * (sources inside) and a small TypeScript app compiled against the extracted
 * tarballs under `moduleResolution` node10, bundler and node16. No network:
 * the tarballs are extracted into a temporary node_modules.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
/** Members marked `@internal` in the SDK's sources; none may reach the published types. */
const INTERNAL_NAMES = ['_end', '_setInfo', '_addTrack', 'publishSettings', 'producer', 'handleNotification'];

interface PackResult {
  filename: string;
  files: { path: string }[];
}

async function pack(workspace: string, into: string): Promise<PackResult> {
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', into], {
    cwd: join(REPO, workspace),
    maxBuffer: 16 * 1024 * 1024,
  });
  // prepack's own output (the bundle script's line) comes before npm's JSON.
  const [result] = JSON.parse(stdout.slice(stdout.indexOf('\n[') + 1)) as PackResult[];
  return result!;
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('npm pack', { timeout: 120_000 }, () => {
  let tmp: string;
  let sdk: PackResult;
  let protocol: PackResult;
  let react: PackResult;
  let app: string;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'huizhen-pack-'));
    protocol = await pack('protocol', tmp);
    sdk = await pack('client-sdk', tmp);
    react = await pack('react', tmp);
    app = join(tmp, 'app');
    const modules = join(app, 'node_modules');
    for (const [name, tarball] of [
      ['@huizhen/protocol', protocol.filename],
      ['@huizhen/client-sdk', sdk.filename],
      ['@huizhen/react', react.filename],
    ] as const) {
      const dir = join(modules, name);
      await mkdir(dir, { recursive: true });
      await run('tar', ['-xzf', join(tmp, tarball), '-C', dir, '--strip-components=1']);
    }
    // Their dependencies, as npm would install them (the versions this repository locks).
    await symlink(join(REPO, 'node_modules', 'mediasoup-client'), join(modules, 'mediasoup-client'));
    await symlink(join(REPO, 'protocol', 'node_modules', 'zod'), join(modules, 'zod'));
    // The React kit's peers, as the app itself would install them.
    await symlink(join(REPO, 'node_modules', 'react'), join(modules, 'react'));
    await mkdir(join(modules, '@types'), { recursive: true });
    await symlink(join(REPO, 'node_modules', '@types', 'react'), join(modules, '@types', 'react'));
  }, 120_000);

  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('ships dist, LICENSE and README, and no sources, tests, declaration maps or build info', () => {
    for (const { files } of [sdk, protocol, react]) {
      const paths = files.map((f) => f.path);
      expect(paths).toEqual(
        expect.arrayContaining(['package.json', 'LICENSE', 'README.md', 'dist/index.js', 'dist/index.d.ts']),
      );
      expect(
        paths.filter((p) => !p.startsWith('dist/') && !['package.json', 'LICENSE', 'README.md'].includes(p)),
      ).toEqual([]);
      expect(paths.filter((p) => /\.test\.|\.d\.ts\.map$|tsbuildinfo|(^|\/)src\/|(^|\/)testing\//.test(p))).toEqual([]);
    }
    expect(sdk.files.map((f) => f.path)).toEqual(
      expect.arrayContaining([
        'dist/protocol.d.ts',
        'dist/preflight.js',
        'dist/preflight.d.ts',
        'dist/vitals.js',
        'dist/vitals.d.ts',
        'dist/huizhen-client.js',
      ]),
    );
  });

  it('packs the React kit with react as a peer, not a dependency', async () => {
    const manifest = JSON.parse(
      await readFile(join(app, 'node_modules', '@huizhen', 'react', 'package.json'), 'utf8'),
    ) as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
    };
    expect(manifest.dependencies).toEqual({ '@huizhen/client-sdk': '0.1.0' });
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual(['react', 'react-dom']);
    expect(react.files.map((f) => f.path).filter((p) => /test-support|RoomConnector\.d\.ts$/.test(p))).toEqual([
      'dist/RoomConnector.d.ts',
    ]);
    // Internal modules keep their code, not their declarations.
    const connector = await readFile(
      join(app, 'node_modules', '@huizhen', 'react', 'dist', 'RoomConnector.d.ts'),
      'utf8',
    );
    expect(connector).not.toContain('class RoomConnector');
  });

  it('publishes no @internal member in its types', async () => {
    const declarations = (await walk(join(app, 'node_modules', '@huizhen'))).filter((f) => f.endsWith('.d.ts'));
    expect(declarations.length).toBeGreaterThan(20);
    const leaks: string[] = [];
    for (const file of declarations) {
      const text = await readFile(file, 'utf8');
      if (text.includes('@internal')) leaks.push(`${file}: @internal`);
      for (const name of INTERNAL_NAMES) {
        if (new RegExp(`^\\s*(?:get |readonly )?${name}\\b`, 'm').test(text)) leaks.push(`${file}: ${name}`);
      }
    }
    expect(leaks).toEqual([]);
  });

  it('ships source maps that carry their sources', async () => {
    const maps = (await walk(join(app, 'node_modules', '@huizhen'))).filter((f) => f.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(20);
    for (const file of maps) {
      const map = JSON.parse(await readFile(file, 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      expect(map.sourcesContent?.length, file).toBe(map.sources.length);
      expect(
        map.sourcesContent?.every((s) => typeof s === 'string' && s.length > 0),
        file,
      ).toBe(true);
    }
  });

  it('compiles a small app against the packed types under node10, bundler and node16', async () => {
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'hospital-app', private: true, type: 'module' }));
    await writeFile(
      join(app, 'main.ts'),
      `import { connect, isHuizhenError, RoomEvent, type Permission, type Room, type RemoteTrack } from '@huizhen/client-sdk';
import { ErrorCode, HuizhenError } from '@huizhen/client-sdk/protocol';
import { preflight } from '@huizhen/client-sdk/preflight';
import { simulatedVitalsDevice } from '@huizhen/client-sdk/vitals';

export async function join(url: string, token: string): Promise<Room> {
  const room = await connect(url, token);
  const granted: ReadonlySet<Permission> = room.permissions;
  // @ts-expect-error the set holds Permission, not any string
  const loose: ReadonlySet<'anything'> = room.permissions;
  const tracks: RemoteTrack[] = [];
  room.on(RoomEvent.TrackSubscribed, (track) => tracks.push(track), { replay: true });
  // @ts-expect-error internal members are not in the published types
  room.localParticipant._setInfo;
  void granted;
  void loose;
  return room;
}
export const check = (e: unknown): boolean => isHuizhenError(e, ErrorCode.TOKEN_EXPIRED) || e instanceof HuizhenError;
export { preflight, simulatedVitalsDevice };
`,
    );
    const modes = [
      { moduleResolution: 'node10', module: 'esnext' },
      { moduleResolution: 'bundler', module: 'esnext' },
      { moduleResolution: 'node16', module: 'node16' },
    ];
    for (const mode of modes) {
      const config = `tsconfig.${mode.moduleResolution}.json`;
      await writeFile(
        join(app, config),
        JSON.stringify({
          compilerOptions: {
            ...mode,
            target: 'es2022',
            lib: ['es2022', 'dom', 'dom.iterable'],
            strict: true,
            noEmit: true,
            types: [],
            // The published declarations are checked too (an app with skipLibCheck off sees them);
            // under node10, mediasoup-client's own subpath types cannot resolve, whatever we ship.
            skipLibCheck: mode.moduleResolution === 'node10',
          },
          files: ['main.ts'],
        }),
      );
      const result = await run(process.execPath, [TSC, '-p', config], { cwd: app }).catch(
        (error: { stdout?: string }) => ({ stdout: `${error.stdout ?? String(error)}` }),
      );
      expect(result.stdout, `moduleResolution ${mode.moduleResolution}`).toBe('');
    }
  });

  it('compiles a small React view against the packed kit under bundler and node16', async () => {
    await writeFile(
      join(app, 'view.tsx'),
      `import { type ReactNode } from 'react';
import { HuizhenRoom, useTracks, useWaitingRoom, VideoTile, ControlBar, ChatPanel, type TrackReference } from '@huizhen/react';
import type { Room } from '@huizhen/client-sdk';

function Stage(): ReactNode {
  const tracks: TrackReference[] = useTracks({ sources: ['camera'] });
  const { waiting, admit } = useWaitingRoom();
  return (
    <div>
      {tracks.map((ref) => <VideoTile key={ref.track.trackId} track={ref} />)}
      {waiting.map((w) => <button key={w.identity} onClick={() => void admit(w.identity)}>{w.name}</button>)}
    </div>
  );
}
export const View = ({ url, token, onRoom }: { url: string; token: string; onRoom: (r: Room) => void }): ReactNode => (
  <HuizhenRoom serverUrl={url} token={token} onConnected={onRoom}>
    <Stage />
    <ControlBar />
    <ChatPanel />
  </HuizhenRoom>
);
`,
    );
    for (const mode of [
      { moduleResolution: 'bundler', module: 'esnext' },
      { moduleResolution: 'node16', module: 'node16' },
    ]) {
      const config = `tsconfig.react.${mode.moduleResolution}.json`;
      await writeFile(
        join(app, config),
        JSON.stringify({
          compilerOptions: {
            ...mode,
            target: 'es2022',
            lib: ['es2022', 'dom', 'dom.iterable'],
            jsx: 'react-jsx',
            strict: true,
            noEmit: true,
            types: [],
            skipLibCheck: true,
          },
          files: ['view.tsx'],
        }),
      );
      const result = await run(process.execPath, [TSC, '-p', config], { cwd: app }).catch(
        (error: { stdout?: string }) => ({ stdout: `${error.stdout ?? String(error)}` }),
      );
      expect(result.stdout, `moduleResolution ${mode.moduleResolution}`).toBe('');
    }
  });
});
