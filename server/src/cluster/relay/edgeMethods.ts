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
  // Data channels: SCTP ends here; each topic is piped to the home's data relay and its channels piped back.
  'produceData',
  'closeDataProducer',
  'subscribeData',
]);

/** Requests a relayed session cannot make: the pre-call check, which runs outside rooms on the node it is asked of. */
export const HOME_ONLY_METHODS: ReadonlySet<Method> = new Set<Method>([
  'startPreflight',
  'preflightConnectTransport',
  'preflightProduce',
  'preflightResumeConsumer',
  'preflightStats',
  'endPreflight',
]);
