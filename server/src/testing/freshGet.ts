/**
 * A GET on a fresh connection each time: with fetch's pooled keep-alive, a
 * pause on a loaded machine can race the server closing the idle socket
 * (ECONNRESET), which would be a test artefact, not a server fault.
 */
import { get } from 'node:http';

export interface GetReply {
  status: number;
  body: Buffer;
  text(): string;
  json(): unknown;
  header(name: string): string | undefined;
}

/** `token`, when given, goes as a bearer token. */
export function freshGet(url: string, token?: string): Promise<GetReply> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          body,
          text: () => body.toString('utf8'),
          json: () => JSON.parse(body.toString('utf8')) as unknown,
          header: (name) => res.headers[name.toLowerCase()] as string | undefined,
        });
      });
    });
    req.on('error', reject);
  });
}
