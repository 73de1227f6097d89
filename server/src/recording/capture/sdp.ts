/**
 * The SDP that tells ffmpeg what arrives on its port: one consumer's codec,
 * payload type and clock rate. ffmpeg reads it from a file (it carries no
 * secrets; the port is local).
 */
import type { types } from 'mediasoup';

export function consumerSdp(kind: 'audio' | 'video', rtp: types.RtpParameters, port: number): string {
  const codec = rtp.codecs[0];
  if (!codec) throw new Error('the consumer has no codec');
  const name = codec.mimeType.split('/')[1]!;
  const rtpmap =
    kind === 'audio'
      ? `${name}/${codec.clockRate}${codec.channels && codec.channels > 1 ? `/${codec.channels}` : ''}`
      : `${name}/${codec.clockRate}`;
  const fmtp = Object.entries(codec.parameters ?? {})
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(';');
  return [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    's=huizhen recording',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=${kind} ${port} RTP/AVP ${codec.payloadType}`,
    `a=rtpmap:${codec.payloadType} ${rtpmap}`,
    ...(fmtp ? [`a=fmtp:${codec.payloadType} ${fmtp}`] : []),
    'a=recvonly',
    '',
  ].join('\r\n');
}

/** What the recorder asks mediasoup for: the router's codecs without RTX, which ffmpeg cannot demultiplex. */
export function recorderCapabilities(router: types.Router): types.RtpCapabilities {
  return {
    codecs: (router.rtpCapabilities.codecs ?? []).filter((c) => !/\/rtx$/i.test(c.mimeType)),
    headerExtensions: [],
  };
}
