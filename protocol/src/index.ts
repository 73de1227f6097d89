/** The Huizhen wire protocol: shared by the server and the SDK. */
export * from './errors.js';
export * from './messages.js';
export * from './validate.js';
