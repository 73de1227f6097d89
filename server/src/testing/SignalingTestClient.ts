/** Server tests' name for the shared protocol client (server/src/client/ProtocolClient.ts). */
export { ProtocolClient as SignalingTestClient, type WireResponse } from '../client/ProtocolClient.js';
