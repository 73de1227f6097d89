/**
 * Checks an audit file or folder: every line parses, every hash matches its
 * entry, every `prev` is the previous entry's hash, and `seq` counts up by one.
 * Reports the first broken link.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CURRENT_FILE, GENESIS, hashEntry, type AuditEntry } from './AuditLog.js';

export type VerifyResult =
  | { ok: true; entries: number; files: number; lastHash: string }
  | { ok: false; entries: number; file: string; line: number; problem: string };

/** A folder is checked as one chain: rotated files oldest first, then the current file. */
export function verifyAudit(path: string): VerifyResult {
  const files = statSync(path).isDirectory()
    ? [
        ...readdirSync(path)
          .filter((f) => /^audit-.*\.jsonl$/.test(f))
          .sort()
          .map((f) => join(path, f)),
        ...readdirSync(path)
          .filter((f) => f === CURRENT_FILE)
          .map((f) => join(path, f)),
      ]
    : [path];
  let prev: string | undefined = statSync(path).isDirectory() ? GENESIS : undefined;
  let seq: number | undefined;
  let entries = 0;
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    for (const [i, text] of lines.entries()) {
      const fail = (problem: string): VerifyResult => ({ ok: false, entries, file, line: i + 1, problem });
      let entry: AuditEntry;
      try {
        entry = JSON.parse(text) as AuditEntry;
      } catch {
        return fail('not valid JSON');
      }
      const { hash, ...rest } = entry;
      if (typeof hash !== 'string' || hashEntry(rest) !== hash)
        return fail('hash does not match the entry (edited line)');
      // A single rotated file may start mid-chain: its first prev is taken as given.
      if (prev !== undefined && entry.prev !== prev)
        return fail('prev does not match the previous entry (line removed, inserted or reordered)');
      if (seq !== undefined && entry.seq !== seq + 1) return fail(`seq ${entry.seq} does not follow ${seq}`);
      prev = hash;
      seq = entry.seq;
      entries++;
    }
  }
  return { ok: true, entries, files: files.length, lastHash: prev ?? GENESIS };
}
