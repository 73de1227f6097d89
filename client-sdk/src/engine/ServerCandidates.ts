/**
 * The servers a session may reconnect to: the URL it connected to first and,
 * in cluster mode, the other live nodes each join response names
 * (`clusterNodes`). When the current one fails (it died, or it answers that
 * the room is homed elsewhere), the reconnect loop moves on to the next, in
 * turn, so a client whose node was killed comes back on another node.
 */
import { toSignalUrl } from '../url.js';

export class ServerCandidates {
  /** Server URLs (as the app or the server gave them), the one in use at `#index`. */
  #urls: string[];
  #index = 0;

  constructor(first: string) {
    this.#urls = [first];
  }

  /** The server URL the session uses now. */
  get current(): string {
    return this.#urls[this.#index]!;
  }

  /** All known candidates, the current one first. */
  get all(): readonly string[] {
    return [...this.#urls.slice(this.#index), ...this.#urls.slice(0, this.#index)];
  }

  /** A join answered: the cluster's other nodes now are `others` (an unparseable URL is skipped). */
  learn(others: readonly string[] | undefined): void {
    if (!others) return;
    const current = this.current;
    const seen = new Set([signalKey(current)]);
    const next = [current];
    for (const url of others) {
      const key = signalKey(url);
      if (key === undefined || seen.has(key)) continue;
      seen.add(key);
      next.push(url);
    }
    this.#urls = next;
    this.#index = 0;
  }

  /** Makes `url` the current candidate (the server asked the session to move there); false if it is not a URL. */
  prefer(url: string): boolean {
    const key = signalKey(url);
    if (key === undefined) return false;
    this.#urls = [url, ...this.#urls.filter((u) => signalKey(u) !== key)];
    this.#index = 0;
    return true;
  }

  /** Moves on to the next candidate; undefined when there is no other one. */
  advance(): string | undefined {
    if (this.#urls.length < 2) return undefined;
    this.#index = (this.#index + 1) % this.#urls.length;
    return this.current;
  }
}

function signalKey(url: string): string | undefined {
  try {
    return toSignalUrl(url);
  } catch {
    return undefined;
  }
}
