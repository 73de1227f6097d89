/**
 * The placement of a cluster-mode node between listening and having joined
 * the cluster (ClusterNode.start can take connectTimeoutMs and a renewal).
 * A room opened in that window would have no home lease, so another node
 * could home the same room and nothing would evict either copy: until the
 * ClusterNode is handed over, every open is refused CLUSTER_UNAVAILABLE;
 * after that, everything is the node's.
 */
import type { RoomPlacement } from '../rooms/RoomPlacement.js';
import type { RoomStateWriter } from '../rooms/RoomStateWriter.js';
import { clusterUnavailable } from './clusterErrors.js';

export class JoiningPlacement implements RoomPlacement {
  #node: RoomPlacement | undefined;

  /** The node has joined (or started without Redis and joins when it returns): it decides from now on. */
  joined(node: RoomPlacement): void {
    this.#node = node;
  }

  async beforeOpen(room: string): Promise<void> {
    if (!this.#node) throw clusterUnavailable('joining the cluster');
    return this.#node.beforeOpen(room);
  }

  confirm(room: string): void {
    if (!this.#node) throw clusterUnavailable('joining the cluster');
    this.#node.confirm(room);
  }

  durableState(room: string): RoomStateWriter | undefined {
    if (!this.#node) throw clusterUnavailable('joining the cluster');
    return this.#node.durableState(room);
  }

  closed(room: string): void {
    // Before the hand-over no room opened here (beforeOpen refused them all), so there is nothing to release.
    this.#node?.closed(room);
  }
}
