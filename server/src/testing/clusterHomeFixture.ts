/**
 * A separate process that homes one room and writes to its state every
 * 200 ms, for the test that SIGSTOPs it past its lease and SIGCONTs it
 * (server/src/cluster/pausedHome.test.ts). One JSON line per event on stdout.
 *   node server/dist/testing/clusterHomeFixture.js <redis url> <node id> <room>
 */
import { ClusterConnection } from '../cluster/ClusterConnection.js';
import { ClusterKeys } from '../cluster/keys.js';
import { RedisRoomStateStore } from '../cluster/RedisRoomStateStore.js';
import { RoomDirectory } from '../cluster/RoomDirectory.js';
import { createLogger } from '../observability/logger.js';

const [url, nodeId, room] = process.argv.slice(2);
if (!url || !nodeId || !room) {
  process.stderr.write('usage: clusterHomeFixture <redis url> <node id> <room>\n');
  process.exit(2);
}
const say = (event: Record<string, unknown>) =>
  process.stdout.write(JSON.stringify({ at: Date.now(), ...event }) + '\n');
const logger = createLogger({ level: 'error', write: (line) => process.stderr.write(line + '\n') });
const keys = new ClusterKeys('paused:');
const connection = ClusterConnection.open({
  url,
  connectTimeoutMs: 500,
  commandTimeoutMs: 300,
  reconnectMaxDelayMs: 200,
  pingEveryMs: 200,
  logger,
});
const directory = new RoomDirectory({
  connection,
  keys,
  nodeId,
  leaseMs: 2500,
  renewEveryMs: 1000,
  nodes: async () => [],
  logger,
});
const store = new RedisRoomStateStore(connection, keys);
directory.on('homeLost', (lease, reason) => say({ event: 'lost', epoch: lease.epoch, reason }));

connection.once('up', () => {
  void (async () => {
    const lease = await directory.claim(room);
    if (!lease) return say({ event: 'notHome' });
    say({ event: 'claimed', epoch: lease.epoch });
    directory.start();
    let n = 0;
    // Writes on as the home it believes it is, with the epoch it was given.
    setInterval(() => {
      const identity = `${nodeId}-${++n}`;
      const at = Date.now();
      store.admit(lease, identity).then(
        () => say({ event: 'write', identity, sentAt: at, ok: true }),
        (error: { code?: string }) => say({ event: 'write', identity, sentAt: at, ok: false, code: error.code }),
      );
    }, 200);
  })();
});
