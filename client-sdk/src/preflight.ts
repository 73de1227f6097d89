/**
 * `@huizhen/client-sdk/preflight`: the pre-call check (camera, microphone,
 * speaker, signaling, media through the server) as an entry point of its own,
 * so an app that checks devices on a separate page loads it only there.
 */
export { preflight, PreflightTest } from './preflight/preflight.js';
export { playTestSound, type TestSoundOptions } from './preflight/speaker.js';
export { THRESHOLDS as PREFLIGHT_THRESHOLDS } from './preflight/verdict.js';
export * from './preflight/types.js';
