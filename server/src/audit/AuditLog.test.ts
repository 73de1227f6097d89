import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog } from './AuditLog.js';
import { verifyAudit } from './verifyAudit.js';

const dir = () => mkdtempSync(join(tmpdir(), 'huizhen-audit-'));
const fill = (log: AuditLog, n: number) => {
  for (let i = 0; i < n; i++)
    log.append({ event: 'join', room: 'r1', actor: { identity: `p${i}`, role: 'doctor', issuer: 'h' } });
};

describe('audit log', () => {
  it('writes a chain that verifies', () => {
    const d = dir();
    const log = new AuditLog({ dir: d, maxFileBytes: 1_000_000 });
    fill(log, 5);
    expect(verifyAudit(log.path)).toMatchObject({ ok: true, entries: 5 });
  });

  it('catches an edited line and names it', () => {
    const d = dir();
    const log = new AuditLog({ dir: d, maxFileBytes: 1_000_000 });
    fill(log, 5);
    const lines = readFileSync(log.path, 'utf8').split('\n');
    lines[2] = lines[2]!.replace('"p2"', '"mallory"');
    writeFileSync(log.path, lines.join('\n'));
    expect(verifyAudit(log.path)).toMatchObject({ ok: false, line: 3, problem: expect.stringContaining('edited') });
  });

  it('catches a removed line', () => {
    const d = dir();
    const log = new AuditLog({ dir: d, maxFileBytes: 1_000_000 });
    fill(log, 5);
    const lines = readFileSync(log.path, 'utf8').split('\n');
    lines.splice(1, 1);
    writeFileSync(log.path, lines.join('\n'));
    expect(verifyAudit(log.path)).toMatchObject({ ok: false, line: 2, problem: expect.stringContaining('removed') });
  });

  it('rotates by size and keeps one chain across files and restarts', () => {
    const d = dir();
    let log = new AuditLog({ dir: d, maxFileBytes: 800 });
    fill(log, 6);
    log = new AuditLog({ dir: d, maxFileBytes: 800 }); // a restart continues the chain
    fill(log, 6);
    expect(readdirSync(d).filter((f) => f.startsWith('audit-')).length).toBeGreaterThan(1);
    expect(verifyAudit(d)).toMatchObject({ ok: true, entries: 12 });
  });
});
