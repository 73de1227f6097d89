// The app and Huizhen on one origin in development: Vite forwards the API, the SDK's
// worklets and the signaling WebSocket to the Huizhen server (HUIZHEN_URL, default
// http://127.0.0.1:3000), so no CORS or origin list is needed. A separate app origin
// in production is listed in the server's `server.allowedOrigins` instead.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const huizhen = process.env.HUIZHEN_URL ?? 'http://127.0.0.1:3000';
const proxy = {
  '/api': huizhen,
  '/sdk': huizhen,
  '/ws': { target: huizhen.replace(/^http/, 'ws'), ws: true },
};

export default defineConfig({
  plugins: [react()],
  server: { proxy },
  preview: { proxy },
});
