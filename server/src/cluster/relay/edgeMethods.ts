/**
 * Which client requests of a relayed session the edge node (where the
 * participant's media terminates) answers itself, and which it refuses: the
 * rest are workflow and run at the room's home. The home refuses the edge's
 * methods for a relayed session, so a buggy or stale edge cannot reach media
 * state the home does not hold.
 */
import type { Method } from '@huizhen/protocol';

/** Media requests, served by the edge's router for the room. */
export const EDGE_MEDIA_METHODS: ReadonlySet<Method> = new Set<Method>([
  'setRtpCapabilities',
  'createTransport',
  'connectTransport',
  'restartIce',
  'produce',
  'closeProducer',
  'setProducerPaused',
  'resumeConsumer',
  'setConsumerVideoSize',
  'setConsumerPaused',
  'requestKeyFrame',
  'getStats',
  'getIceServers',
  'reportQuality',
  // The load generator's plain-RTP transports (load-test sessions only), so the bench can split a room over nodes.
  'createPlainTransport',
  'connectPlainTransport',
]);

/**
 * Requests a relayed session cannot make yet: data channels, whose relay and
 * vitals ingest live with the room's home, and the pre-call check (outside rooms).
 */
export const HOME_ONLY_METHODS: ReadonlySet<Method> = new Set<Method>([
  'produceData',
  'closeDataProducer',
  'subscribeData',
  'startPreflight',
  'preflightConnectTransport',
  'preflightProduce',
  'preflightResumeConsumer',
  'preflightStats',
  'endPreflight',
]);
