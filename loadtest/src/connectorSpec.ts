/**
 * A Huizhen connector as plain data: what a generator child process needs to
 * build the same connector (target and credentials) the parent uses. The HMAC
 * secret travels over the IPC channel only, never on a command line.
 */
import { z } from 'zod';
import { HuizhenConnector } from './sfu.js';
import { CommandTokenSource, DevTokenSource, HmacTokenSource, type TokenSource } from './tokens.js';

export const TokenSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('hmac'), secret: z.string(), issuer: z.string(), audience: z.string() }),
  z.object({ kind: z.literal('command'), template: z.string() }),
  z.object({ kind: z.literal('dev'), httpUrl: z.string() }),
]);
export type TokenSpec = z.infer<typeof TokenSpecSchema>;

export const ConnectorSpecSchema = z.object({
  kind: z.literal('huizhen'),
  target: z.object({ httpUrl: z.string(), wsUrl: z.string() }),
  tokens: TokenSpecSchema,
});
export type ConnectorSpec = z.infer<typeof ConnectorSpecSchema>;

export function tokenSourceFromSpec(spec: TokenSpec): TokenSource {
  switch (spec.kind) {
    case 'hmac':
      return new HmacTokenSource({ secret: spec.secret, issuer: spec.issuer, audience: spec.audience });
    case 'command':
      return new CommandTokenSource(spec.template);
    case 'dev':
      return new DevTokenSource(spec.httpUrl);
  }
}

export function connectorFromSpec(spec: ConnectorSpec): HuizhenConnector {
  return new HuizhenConnector(spec.target, tokenSourceFromSpec(spec.tokens));
}
