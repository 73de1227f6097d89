/**
 * `--no-lobby`: joins the scenario's lobby roles (the consult's patient, the
 * clinic's observer) as clinicians, who come straight in, in both layouts
 * alike, to take the admission step out of the join figures. The media each
 * one sends and receives is the scenario's own.
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
