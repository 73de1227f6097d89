/**
 * Entry of a generator child process (forked by childShard.ts): one
 * in-process shard driven over the IPC channel. Every request is checked
 * against the shard protocol; the process ends when asked to close or when
 * its parent goes away (nothing keeps sending after the run).
 */
import { connectorFromSpec } from './connectorSpec.js';
import { LoadTestError } from './errors.js';
import { LocalShard } from './localShard.js';
import { ToShardSchema, type FromShard, type ToShard } from './shardProtocol.js';

let shard: LocalShard | undefined;

function send(msg: FromShard, then?: () => void): void {
  if (!process.connected) return;
  process.send!(msg, undefined, {}, () => then?.());
}

function need(): LocalShard {
  if (!shard) throw new LoadTestError('INTERNAL', 'the shard was asked to work before init');
  return shard;
}

async function answer(msg: ToShard): Promise<FromShard> {
  switch (msg.type) {
    case 'init':
      if (shard) throw new LoadTestError('INTERNAL', 'init sent twice');
      shard = await LocalShard.create(msg.index, msg.config, connectorFromSpec(msg.connector));
      return { type: 'ready', id: msg.id, pid: process.pid };
    case 'join':
      return { type: 'joined', id: msg.id, ...(await need().join(msg.rooms)) };
    case 'begin':
      await need().beginWindow();
      return { type: 'begun', id: msg.id };
    case 'end':
      return { type: 'window', id: msg.id, window: await need().endWindow() };
    case 'close':
      return {
        type: 'closed',
        id: msg.id,
        summary: await (shard?.close() ?? { joins: [], joinFailures: 0, errors: [] }),
      };
  }
}

process.on('message', (raw: unknown) => {
  const parsed = ToShardSchema.safeParse(raw);
  if (!parsed.success) {
    const id = typeof (raw as { id?: unknown } | null)?.id === 'number' ? (raw as { id: number }).id : -1;
    const issue = parsed.error.issues[0];
    send({
      type: 'error',
      id,
      code: 'INTERNAL',
      message: `not a shard request (${issue ? `${issue.path.join('.') || 'message'}: ${issue.message}` : 'invalid'})`,
    });
    return;
  }
  const msg = parsed.data;
  answer(msg).then(
    (reply) => send(reply, msg.type === 'close' ? () => process.exit(0) : undefined),
    (err: unknown) =>
      send({
        type: 'error',
        id: msg.id,
        code: err instanceof LoadTestError ? err.code : 'INTERNAL',
        message: (err as Error).message ?? String(err),
      }),
  );
});

// The run ended without a goodbye (it failed or was killed): stop sending and go.
process.on('disconnect', () => {
  void (shard?.close() ?? Promise.resolve()).finally(() => process.exit(0));
});

if (!process.send) {
  process.stderr.write('shardChild: this is a generator child process; huizhen-loadtest starts it\n');
  process.exit(2);
}
