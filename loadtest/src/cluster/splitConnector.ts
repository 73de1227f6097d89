/**
 * The split layout's connector: the first participant of each room to
 * connect goes to the home node, everyone after it to the edge node. The
 * engine starts each room's host (its first clinician) alone and the rest
 * once the host is in, so "first to connect" is the host: the room opens
 * (and is homed) on node a, and the others join it through node b, whose
 * relay takes them to the home while their media terminates at b.
 */
import type { JoinRequest, JoinTiming, SfuConnector, SfuSession } from '../sfu.js';

export class SplitConnector implements SfuConnector {
  readonly name: string;
  readonly #home: SfuConnector;
  readonly #edge: SfuConnector;
  readonly #opened = new Set<string>();
  /** Participants sent to each node, for the report's check that the run really split. */
  readonly placed = { home: 0, edge: 0 };

  constructor(name: string, home: SfuConnector, edge: SfuConnector) {
    this.name = name;
    this.#home = home;
    this.#edge = edge;
  }

  connect(req: JoinRequest, timing: JoinTiming): Promise<SfuSession> {
    if (!this.#opened.has(req.room)) {
      this.#opened.add(req.room);
      this.placed.home++;
      return this.#home.connect(req, timing);
    }
    this.placed.edge++;
    return this.#edge.connect(req, timing);
  }

  async close(): Promise<void> {
    await Promise.all([this.#home.close(), this.#edge.close()]);
  }
}
