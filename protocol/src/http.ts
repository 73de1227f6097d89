/**
 * The HTTP API's bodies, as zod schemas: what the server parses and answers,
 * and what `/api/openapi.json` describes (the document is generated from
 * these, so it cannot drift from what the server checks).
 */
import * as z from 'zod/mini';
import { ROLES, ROOM_KINDS } from './constants.js';
import { num, oneOf, str } from './schema.js';
import { consultSummary, opinion, recordInfo, roomInfo } from './shapes.js';

const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;
const IDENTITY = /^[A-Za-z0-9_.@:-]+$/;

/** Every refusal: a stable code and a sentence for people. */
export const httpErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** `POST /api/dev/token` (development servers only). */
export const devTokenRequest = z.strictObject({
  identity: str({ min: 1, max: 128, pattern: IDENTITY }),
  name: str({ min: 1, max: 128 }),
  role: oneOf(ROLES),
  room: str({ min: 1, max: 64, pattern: ROOM_ID }),
  /** The room kind a clinician's token opens. */
  kind: z.optional(oneOf(ROOM_KINDS)),
  /** A load-generator credential (huizhen-loadtest --dev-token); only while loadTest.enabled. */
  loadtest: z.optional(z.boolean()),
});
export const devTokenResponse = z.object({ token: z.string() });

/** `POST /api/rooms`: an appointment system books a room ahead (service token, scope rooms:write). */
export const bookRoomRequest = z.strictObject({
  room: str({ min: 1, max: 64, pattern: ROOM_ID }),
  kind: oneOf(ROOM_KINDS),
  capacity: z.optional(num({ integer: true, min: 2, max: 1000 })),
  host: z.optional(str({ min: 1, max: 128, pattern: IDENTITY })),
});
export const bookRoomResponse = z.object({ room: roomInfo });

export const summaryResponse = z.object({
  summary: z.extend(consultSummary, { evaluations: z.optional(z.number()) }),
});
export const opinionsResponse = z.object({ opinions: z.array(opinion) });
export const recordUploadedResponse = z.object({ record: recordInfo });

export const healthResponse = z.object({
  status: oneOf(['ok', 'degraded'] as const),
  version: z.string(),
  uptimeSec: z.number(),
  workers: z.number(),
  rooms: z.number(),
  participants: z.number(),
  // --- cluster: present in cluster mode only (REDIS_URL set)
  cluster: z.optional(
    z.object({
      nodeId: z.string(),
      state: oneOf(['active', 'draining'] as const),
      /** Whether the node's entry is live in the registry. */
      registered: z.boolean(),
      redis: z.object({
        up: z.boolean(),
        roundTripMs: z.nullable(z.number()),
        errors: z.number(),
        outages: z.number(),
      }),
      roomsHomed: z.number(),
    }),
  ),
});

/** `GET /api/rooms/:id/recordings`: the consult's recordings, each with a short-lived signed URL once composed. */
export const recordingsResponse = z.object({
  recordings: z.array(
    z.object({
      id: z.string(),
      startedAt: z.string(),
      durationSec: z.number(),
      url: z.nullable(z.string()),
      urlExpiresAt: z.nullable(z.number()),
      state: z.string(),
      requestedBy: z.string(),
      consent: z.array(z.object({ time: z.string(), identity: z.string(), event: z.string() })),
      tracks: z.number(),
    }),
  ),
});
