import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryCommand } from './cli.js';
import type { Report } from './report.js';

const dir = mkdtempSync(join(tmpdir(), 'huizhen-memory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Needs the built server (server/dist, `npm run build`): the command starts its own, with its inspector on loopback.
describe('huizhen-loadtest memory (smoke)', () => {
  it('measures idle and publishing participants on a real server and writes them into the report', async () => {
    const lines: string[] = [];
    const { report, files } = await memoryCommand(
      ['--idle', '10', '--publishing', '2', '--heap-snapshots', join(dir, 'snap'), '--out', dir],
      (s) => lines.push(s),
    );
    const m = report.memory!;
    expect(m.idle.participants).toBe(10);
    expect(m.idle.rooms).toBe(5);
    // Ten sessions, rooms and sockets live after GC: the heap grew, by less than 10 MB each.
    expect(m.idle.perParticipant.heapUsed).toBeGreaterThan(0);
    expect(m.idle.perParticipant.heapUsed).toBeLessThan(10 * 1024 * 1024);
    expect(m.idle.before.workerRss).toBeGreaterThan(1024 * 1024);
    // Two publishers with transports, producers and consumers: the worker holds more than before.
    expect(m.publishing?.participants).toBe(2);
    expect(m.publishing!.after.workerRss).toBeGreaterThan(m.publishing!.before.workerRss);
    expect(m.errors).toEqual([]);
    expect(m.idleHeapDiff?.length).toBeGreaterThan(0);
    expect(existsSync(m.snapshots!.idle)).toBe(true);
    const json = JSON.parse(readFileSync(files.json, 'utf8')) as Report;
    expect(json.memory?.idle.participants).toBe(10);
    expect(readFileSync(files.html, 'utf8')).toContain('Memory per participant');
    expect(lines.join('\n')).toMatch(/idle\s+10\s+[\d.]+ KB/);
  }, 120_000);
});
