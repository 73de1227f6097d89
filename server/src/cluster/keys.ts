/**
 * Every Redis key cluster mode uses, in one place (prefix `cluster.keyPrefix`):
 *   <p>nodes                  set of node ids that registered (pruned when their entry is gone)
 *   <p>node:<id>              the node's entry (JSON), expires `nodeLeaseMs` after its last renewal
 *   <p>node:<id>:rooms        set of the rooms this node is home of
 *   <p>node:<id>:drain        set by `huizhen node drain <id>`: the node drains at its next renewal
 *   <p>room:<id>:home         "<node>|<epoch>": the room's home lease, expires `roomLeaseMs` after its last renewal
 *   <p>room:<id>:epoch        the room's fencing epoch counter (never expires)
 *   <p>room:<id>:state:*      the room's durable state (RedisRoomStateStore): admitted, banned (sets),
 *                            fields (hash: locked, booking, notificationSeq, share), chat (list),
 *                            sessions (hash: identity → session), opinions (hash: author + version → opinion)
 */
export class ClusterKeys {
  constructor(readonly prefix: string) {}

  get nodes(): string {
    return `${this.prefix}nodes`;
  }
  node(id: string): string {
    return `${this.prefix}node:${id}`;
  }
  nodeDrain(id: string): string {
    return `${this.prefix}node:${id}:drain`;
  }
  nodeRooms(id: string): string {
    return `${this.prefix}node:${id}:rooms`;
  }
  roomHome(room: string): string {
    return `${this.prefix}room:${room}:home`;
  }
  roomEpoch(room: string): string {
    return `${this.prefix}room:${room}:epoch`;
  }
  roomState(room: string, part: RoomStatePart): string {
    return `${this.prefix}room:${room}:state:${part}`;
  }
}

/** The parts of a room's durable state, each in a key of its own type. */
export type RoomStatePart = 'admitted' | 'banned' | 'fields' | 'chat' | 'sessions' | 'opinions';
