/** The Huizhen wire protocol and the small foundations every package shares. */
export * from './errors.js';
export * from './HuizhenError.js';
export * from './messages.js';
export * from './TypedEmitter.js';
export * from './vitals.js';
// --- evaluation
export * from './evaluation.js';
