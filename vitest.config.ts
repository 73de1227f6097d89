import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Unit and integration tests beside the code (real mediasoup worker, real
// redis where needed); browser end-to-end tests have their own config.
export default defineConfig({
  resolve: {
    alias: {
      '@huizhen/protocol': fileURLToPath(new URL('./protocol/src/index.ts', import.meta.url)),
      '@huizhen/server/client': fileURLToPath(new URL('./server/src/client/ProtocolClient.ts', import.meta.url)),
      '@huizhen/server/mint': fileURLToPath(new URL('./server/src/auth/mint.ts', import.meta.url)),
      '@huizhen/server/webhooks': fileURLToPath(new URL('./server/src/webhooks/signature.ts', import.meta.url)),
    },
  },
  test: {
    include: [
      'protocol/src/**/*.test.ts',
      'server/src/**/*.test.ts',
      'client-sdk/src/**/*.test.ts',
      'loadtest/src/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
