/**
 * Joins the scenario's lobby roles (the consult's patient, the clinic's
 * observer) as clinicians, who come straight in, in both layouts alike. Why:
 * an edge node loses an `admitted` that the home sends before the edge has
 * processed the relayed join's answer (cluster/relay/EdgeRooms.ts registers
 * the session only after that answer), and the load-test host admits within
 * milliseconds, so in the split run the waiting participant would never be
 * let in. The media each one sends and receives is the scenario's own.
 */
import type { JoinRequest, JoinTiming, SfuConnector, SfuSession } from '../sfu.js';

export class NoLobbyConnector implements SfuConnector {
  readonly #inner: SfuConnector;

  constructor(inner: SfuConnector) {
    this.#inner = inner;
  }

  get name(): string {
    return this.#inner.name;
  }

  connect(req: JoinRequest, timing: JoinTiming): Promise<SfuSession> {
    return this.#inner.connect(req.role === 'doctor' ? req : { ...req, role: 'doctor' }, timing);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
