/**
 * Messages between the run and a generator child process (childShard.ts ↔
 * shardChild.ts), checked with zod on both sides: a child that answers
 * something else is a failed shard, not a wrong figure.
 */
import { z } from 'zod';
import { ConnectorSpecSchema } from './connectorSpec.js';
import { MEDIA_MODES } from './paths.js';
import { SRTP_SUITES } from './rtp/srtp.js';
import { SCENARIOS } from './scenarios.js';

const count = z.number().finite().nonnegative();

export const ShardConfigSchema = z.object({
  scenario: z.enum(SCENARIOS),
  roundsListeners: z.number().int().positive().optional(),
  mode: z.enum(MEDIA_MODES),
  srtp: z.boolean(),
  srtpSuite: z.enum(SRTP_SUITES),
  offLoopReceive: z.boolean(),
  joinConcurrency: z.number().int().positive(),
});

const RoomSchema = z.object({ roomId: z.string().min(1), prefix: z.string().min(1) });

export const ToShardSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('init'),
    id: z.number().int(),
    index: z.number().int().nonnegative(),
    config: ShardConfigSchema,
    connector: ConnectorSpecSchema,
  }),
  z.object({ type: z.literal('join'), id: z.number().int(), rooms: z.array(RoomSchema) }),
  z.object({ type: z.literal('begin'), id: z.number().int() }),
  z.object({ type: z.literal('end'), id: z.number().int() }),
  z.object({ type: z.literal('close'), id: z.number().int() }),
]);
export type ToShard = z.infer<typeof ToShardSchema>;

const HistogramSchema = z.object({
  buckets: z.array(z.tuple([z.number().int().nonnegative(), count])),
  count,
  sum: count,
  max: count,
});

export const ShardWindowSchema = z.object({
  sec: z.number().finite().positive(),
  participants: count,
  publishers: count,
  expectedConsumers: count,
  consumers: count,
  videoConsumers: count,
  topLayer: count,
  stalled: count,
  sentPackets: count,
  sentBytes: count,
  recvPackets: count,
  recvBytes: count,
  // Differences of sequence-number counters: a reordered window edge can make them slightly negative.
  unique: z.number().finite(),
  expected: z.number().finite(),
  recovered: count,
  expectedBytes: count,
  nacks: count,
  plis: count,
  nacksSent: count,
  framesLate: count,
  srtpFailures: count,
  sessionsLost: count,
  cpuUs: count,
  loopUtilization: z.number().min(0).max(1),
  delay: HistogramSchema,
  queue: HistogramSchema,
  sendLate: HistogramSchema,
  loopIntervals: HistogramSchema,
});

const JoinSampleSchema = z.object({
  wsOpenMs: z.number(),
  joinedMs: z.number(),
  connectedMs: z.number().optional(),
  readyMs: z.number(),
  firstRtpMs: z.number().optional(),
});

export const FromShardSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), id: z.number().int(), pid: z.number().int().positive() }),
  z.object({ type: z.literal('joined'), id: z.number().int(), joined: count, failures: count }),
  z.object({ type: z.literal('begun'), id: z.number().int() }),
  z.object({ type: z.literal('window'), id: z.number().int(), window: ShardWindowSchema }),
  z.object({
    type: z.literal('closed'),
    id: z.number().int(),
    summary: z.object({ joins: z.array(JoinSampleSchema), joinFailures: count, errors: z.array(z.string()) }),
  }),
  z.object({ type: z.literal('error'), id: z.number().int(), code: z.string(), message: z.string() }),
]);
export type FromShard = z.infer<typeof FromShardSchema>;

/** The answer each request expects (or `error`). */
export const ANSWER_TO = {
  init: 'ready',
  join: 'joined',
  begin: 'begun',
  end: 'window',
  close: 'closed',
} as const satisfies Record<ToShard['type'], FromShard['type']>;
