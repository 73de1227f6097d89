/**
 * A person is their issuer and subject together: the same `sub` from two
 * hospitals is two people. The string form is stored (a consult's bans), so
 * it must never change.
 */
export function personKey(issuer: string, identity: string): string {
  return `${issuer}\n${identity}`;
}
