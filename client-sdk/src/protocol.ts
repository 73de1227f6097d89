/**
 * `@huizhen/client-sdk/protocol`: the wire contract, re-exported for apps that
 * imported it from the SDK before it became the `@huizhen/protocol` package.
 */
export * from '@huizhen/protocol';
