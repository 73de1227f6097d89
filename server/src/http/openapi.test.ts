/**
 * `/api/openapi.json` of a real node: a valid OpenAPI 3.1 document (checked
 * against the official schema), whose every path is a route the node serves,
 * and whose bodies are the protocol's schemas (strictness included).
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/testServer.js';

interface Doc {
  openapi: string;
  paths: Record<
    string,
    Record<string, { requestBody?: { content: Record<string, { schema: Record<string, unknown> }> } }>
  >;
}

let t: TestServer;
let doc: Doc;
beforeAll(async () => {
  t = await startTestServer();
  const res = await fetch(`${t.url}/api/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as Doc;
}, 60_000);
afterAll(() => t.close());

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc as unknown as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('describes only routes the node serves', async () => {
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const method of Object.keys(operations)) {
        const url = t.url + path.replace(/\{[^}]+\}/g, 'room-1');
        const res = await fetch(url, {
          method: method.toUpperCase(),
          ...(method === 'post' ? { headers: { 'Content-Type': 'application/json' }, body: '{}' } : {}),
        });
        const body = await res.text();
        // The catch-all answers "Nothing at …"; a real route answers anything else (401 without a token, say).
        expect(body, `${method.toUpperCase()} ${path}`).not.toMatch(/Nothing at/);
      }
    }
  });

  it("carries the protocol's rules: required fields, bounds, no unknown keys", () => {
    const book = doc.paths['/api/rooms']!.post!.requestBody!.content['application/json']!.schema;
    expect(book).toMatchObject({ type: 'object', additionalProperties: false, required: ['room', 'kind'] });
    expect((book.properties as Record<string, unknown>).kind).toMatchObject({ enum: ['consult', 'clinic', 'rounds'] });
    const evaluation = doc.paths['/api/rooms/{id}/evaluation']!.post!.requestBody!.content['application/json']!.schema;
    expect((evaluation.properties as Record<string, { minimum?: number; maximum?: number }>).overall).toMatchObject({
      minimum: 1,
      maximum: 5,
    });
  });
});
