/**
 * Plain RTP transports for the load generator only: no ICE or DTLS, optionally
 * SDES-keyed SRTP, rtcp-mux, comedia for senders. Kept out of MediaRoom so the
 * production media path never sees them; reachable only for sessions whose
 * token carries the load-test claim on a server with `loadTest.enabled`.
 */
import type { types } from 'mediasoup';
import type { ResponseData } from '@huizhen/protocol';
import { invalidState, permissionDenied } from '../../errors.js';
import { mediaCall } from './mediaCall.js';
import type { MediaPeer } from './MediaPeer.js';
import type { MediaRoom } from './MediaRoom.js';
import type { Direction } from './PeerMedia.js';

export async function createPlainTransport(
  media: MediaRoom,
  peer: MediaPeer,
  direction: Direction,
  srtp: boolean,
  srtpCryptoSuite: types.SrtpCryptoSuite = 'AES_CM_128_HMAC_SHA1_80',
): Promise<ResponseData['createPlainTransport']> {
  if (!peer.loadTest) throw permissionDenied('use load-test transports');
  peer.media.transport(direction)?.transport.close();
  const { worker } = media;
  const transport = await media.router.createPlainTransport({
    listenInfo: {
      protocol: 'udp',
      ip: worker.listenIp,
      ...(worker.announcedAddress ? { announcedAddress: worker.announcedAddress } : {}),
    },
    rtcpMux: true,
    // A sending generator is learned from its first packet.
    comedia: direction === 'send',
    enableSrtp: srtp,
    srtpCryptoSuite,
    appData: { direction, identity: peer.identity },
  });
  media.adopt(peer, { transport, direction, plain: true, connectCalled: false });
  return {
    id: transport.id,
    ip: transport.tuple.localAddress,
    port: transport.tuple.localPort,
    ...(transport.srtpParameters ? { srtpParameters: transport.srtpParameters } : {}),
  };
}

export async function connectPlainTransport(
  media: MediaRoom,
  peer: MediaPeer,
  transportId: string,
  ip: string,
  port: number,
  srtpParameters?: { cryptoSuite: string; keyBase64: string },
): Promise<void> {
  const t = media.transport(peer, transportId);
  if (!t.plain) throw invalidState('This is not a plain transport.');
  // The server must never become a traffic reflector: it sends load RTP only
  // back to the generator's own address (or loopback).
  if (t.direction === 'recv' && !isLoopbackIp(ip) && ip !== peer.remoteIp) {
    throw permissionDenied(`send load-test media to ${ip}`);
  }
  const transport = t.transport as types.PlainTransport;
  await mediaCall(() =>
    transport.connect({
      ...(t.direction === 'recv' ? { ip, port } : {}),
      // mediasoup checks the suite name and key itself and rejects bad ones (INVALID_REQUEST).
      ...(srtpParameters ? { srtpParameters: srtpParameters as types.SrtpParameters } : {}),
    }),
  );
}

function isLoopbackIp(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}
