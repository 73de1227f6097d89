/**
 * The records viewer's libraries served by a real node from node_modules:
 * pdf.js's module and worker as JavaScript, its CJK CMaps and standard fonts,
 * dicom-parser; nothing else of those packages, and the CSP stays strict.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/testServer.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
}, 60_000);
afterAll(() => t.close());

describe('records viewer libraries', () => {
  it.each([
    ['/vendor/pdfjs/build/pdf.min.mjs', /^text\/javascript/],
    ['/vendor/pdfjs/build/pdf.worker.min.mjs', /^text\/javascript/],
    ['/vendor/dicom-parser/dicomParser.min.js', /^text\/javascript/],
    ['/vendor/pdfjs/cmaps/UniGB-UCS2-H.bcmap', /.+/],
    ['/vendor/pdfjs/standard_fonts/FoxitFixed.pfb', /.+/],
  ])('serves %s', async (path, type) => {
    const res = await fetch(`${t.url}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(type);
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(100);
  });

  it.each([
    '/vendor/pdfjs/package.json',
    '/vendor/pdfjs/build/pdf.mjs.map',
    '/vendor/pdfjs/build/../package.json',
    '/vendor/pdfjs/build/%2e%2e/package.json',
    '/vendor/pdfjs/cmaps/missing.bcmap',
    '/vendor/dicom-parser/../package.json',
  ])('refuses %s', async (path) => {
    const res = await fetch(`${t.url}${path}`);
    expect(res.status).toBe(404);
  });

  it('keeps the CSP strict: same-origin scripts and workers, no eval', async () => {
    const csp = (await fetch(`${t.url}/`)).headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("worker-src 'self';");
    expect(csp).not.toMatch(/unsafe-eval|wasm-unsafe-eval/);
  });
});
