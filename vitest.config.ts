import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

// Unit and integration tests beside the code (real mediasoup worker, real
// redis where needed); browser end-to-end tests have their own config.
export default defineConfig({
  resolve: {
    alias: [
      { find: '@huizhen/protocol', replacement: source('./protocol/src/index.ts') },
      // The React kit's tests run on the SDK's sources, as the SDK's own tests do.
      { find: /^@huizhen\/client-sdk$/, replacement: source('./client-sdk/src/index.ts') },
      { find: '@huizhen/server/client', replacement: source('./server/src/client/ProtocolClient.ts') },
      { find: '@huizhen/server/mint', replacement: source('./server/src/auth/mint.ts') },
      { find: '@huizhen/server/webhooks', replacement: source('./server/src/webhooks/signature.ts') },
    ],
  },
  test: {
    include: [
      'protocol/src/**/*.test.ts',
      'server/src/**/*.test.ts',
      'client-sdk/src/**/*.test.ts',
      'loadtest/src/**/*.test.ts',
      // jsdom where a file asks for it (`@vitest-environment jsdom`).
      'react/src/**/*.test.{ts,tsx}',
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
