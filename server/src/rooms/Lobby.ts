/**
 * The waiting room: who waits (in arrival order) and who was admitted once
 * (they do not wait again after a reconnect or rejoin). Decisions about who
 * must wait come from policy.ts; telling people happens in Room.
 */
import type { WaitingEntry } from '@huizhen/protocol';
import { personKey } from '../auth/person.js';
import { notFound } from '../errors.js';
import type { Participant } from './Participant.js';

export class Lobby {
  readonly #waiting = new Map<string, Participant>();
  /** People (issuer + identity) admitted once. */
  readonly #admittedBefore = new Set<string>();

  get size(): number {
    return this.#waiting.size;
  }

  get(identity: string): Participant | undefined {
    return this.#waiting.get(identity);
  }

  has(p: Participant): boolean {
    return this.#waiting.get(p.identity) === p;
  }

  wasAdmitted(p: Participant): boolean {
    return this.#admittedBefore.has(personKey(p.issuer, p.identity));
  }

  recordAdmitted(p: Participant): void {
    this.#admittedBefore.add(personKey(p.issuer, p.identity));
  }

  /** A room rebuilt on a new home: these people (personKey) were admitted there. */
  restoreAdmitted(people: readonly string[]): void {
    for (const key of people) this.#admittedBefore.add(key);
  }

  /** `since`: a waiter restored on a new home keeps their place in the queue. */
  wait(p: Participant, since?: number): void {
    p.markWaiting(since);
    this.#waiting.set(p.identity, p);
  }

  /** Takes a waiting person out to be admitted. */
  take(identity: string): Participant {
    const p = this.#waiting.get(identity);
    if (!p) throw notFound('waiting participant', identity);
    this.#waiting.delete(identity);
    return p;
  }

  remove(p: Participant): boolean {
    if (this.#waiting.get(p.identity) !== p) return false;
    this.#waiting.delete(p.identity);
    return true;
  }

  values(): IterableIterator<Participant> {
    return this.#waiting.values();
  }

  list(): WaitingEntry[] {
    return [...this.#waiting.values()].map((w) => ({
      identity: w.identity,
      name: w.name,
      role: w.role,
      since: w.waitingSince,
    }));
  }

  clear(): void {
    this.#waiting.clear();
  }
}
