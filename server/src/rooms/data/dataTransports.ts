/**
 * What data channels need of a participant's transports and how a receiver's
 * channels are opened: the same for the room's data relay (DataRelay.ts) and
 * for a cluster edge, where a relayed participant's SCTP ends
 * (cluster/relay/EdgeSession.ts), so both refuse and open alike.
 */
import type { DataChannelInfo } from '@huizhen/protocol';
import type { types } from 'mediasoup';
import { invalidState, notFound } from '../../errors.js';
import type { PeerMedia, PeerTransport } from '../media/PeerMedia.js';

/** DataProducers one participant may hold at once (topics × reliability). */
export const MAX_PRODUCERS_PER_PEER = 32;

/** True when the DataProducer's stream is ordered with retransmissions (the default of a data channel). */
export function isReliable(p: types.SctpStreamParameters): boolean {
  return p.ordered !== false && p.maxRetransmits === undefined && p.maxPacketLifeTime === undefined;
}

/** The send transport `transportId` of `media`, if it may carry a DataProducer; else a typed refusal. */
export function dataSendTransport(media: PeerMedia, transportId: string): PeerTransport {
  const t = media.transportById(transportId);
  if (!t) throw notFound('transport', transportId);
  if (t.plain || t.direction !== 'send') throw invalidState('Data is published on the send transport.');
  if (!(t.transport as types.WebRtcTransport).sctpParameters)
    throw invalidState('This transport was created without sctpCapabilities, so it carries no data channels.');
  return t;
}

/** The receive transport of `media`, if it may carry the room's channels; else a typed refusal. */
export function dataRecvTransport(media: PeerMedia): types.Transport {
  const recv = media.transport('recv');
  if (!recv || recv.plain || recv.transport.closed) throw invalidState('Create the receive transport first.');
  if (!(recv.transport as types.WebRtcTransport).sctpParameters)
    throw invalidState('The receive transport was created without sctpCapabilities, so it carries no data channels.');
  return recv.transport;
}

/**
 * How a receiver consumes each of the two channels. mediasoup's worker (3.19)
 * takes maxRetransmits 0 for "not set" and would then retransmit without
 * limit; 1 is the fewest it can do. Browsers honour 0 on the publishing side.
 */
export function receiveOptions(reliable: boolean): { ordered: boolean; maxRetransmits?: number } {
  return reliable ? { ordered: true } : { ordered: false, maxRetransmits: 1 };
}

/** What the client is told of one of its receiving channels. */
export function channelInfo(c: types.DataConsumer, reliable: boolean): DataChannelInfo {
  return {
    dataConsumerId: c.id,
    dataProducerId: c.dataProducerId,
    sctpStreamParameters: c.sctpStreamParameters ?? { streamId: 0 },
    label: c.label,
    protocol: c.protocol,
    reliable,
  };
}
