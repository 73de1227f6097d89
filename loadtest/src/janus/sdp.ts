/**
 * SDP for the Janus comparison: the publisher offer this generator builds
 * (opus + VP8 with its own SSRCs, simulcast as an `ssrc-group:SIM`, ICE
 * credentials and the host candidate from werift, `a=setup:active` so the
 * generator stays the DTLS client), the subscriber answer, and what is read
 * from Janus' SDP: ICE credentials, candidates, the DTLS fingerprint and the
 * streams (mid, kind, SSRC) it offers a subscriber.
 */
import { LoadTestError } from '../errors.js';

export interface LocalIce {
  ufrag: string;
  pwd: string;
  /** The generator's host candidate (loopback). */
  ip: string;
  port: number;
  /** sha-256 fingerprint of the generator's DTLS certificate (upper-case hex pairs). */
  fingerprint: string;
}

export interface RemoteCandidate {
  foundation: string;
  component: number;
  priority: number;
  ip: string;
  port: number;
  type: string;
}

export interface RemoteDescription {
  ufrag: string;
  pwd: string;
  iceLite: boolean;
  fingerprint: string;
  candidates: RemoteCandidate[];
  media: RemoteMedia[];
}

export interface RemoteMedia {
  kind: string;
  mid: string;
  port: number;
  /** First payload type of the m-line and its rtpmap encoding, e.g. opus/48000/2. */
  payloadType: number;
  rtpmap: string;
  /** First a=ssrc of the section (what Janus sends a subscriber on it). */
  ssrc?: number;
  direction: string;
}

export interface PublisherTracks {
  cname: string;
  audio: { payloadType: number; ssrc: number };
  /** Simulcast SSRCs, lowest layer first (the order Janus reads an ssrc-group:SIM in). */
  video: { payloadType: number; ssrcs: number[] };
}

function sessionHead(): string[] {
  return ['v=0', `o=- ${Date.now()} 2 IN IP4 127.0.0.1`, 's=-', 't=0 0'];
}

function transportLines(ice: LocalIce, mid: string, direction: string): string[] {
  return [
    'c=IN IP4 127.0.0.1',
    'a=rtcp:9 IN IP4 0.0.0.0',
    `a=ice-ufrag:${ice.ufrag}`,
    `a=ice-pwd:${ice.pwd}`,
    `a=fingerprint:sha-256 ${ice.fingerprint}`,
    'a=setup:active',
    `a=mid:${mid}`,
    `a=${direction}`,
    'a=rtcp-mux',
    'a=rtcp-rsize',
    `a=candidate:1 1 udp 2130706431 ${ice.ip} ${ice.port} typ host`,
    'a=end-of-candidates',
  ];
}

/** The publisher's offer: mid 0 audio, mid 1 video (simulcast when it has several SSRCs). */
export function publisherOffer(ice: LocalIce, t: PublisherTracks): string {
  const { audio, video, cname } = t;
  const lines = [
    ...sessionHead(),
    'a=group:BUNDLE 0 1',
    'a=msid-semantic: WMS lt',
    `m=audio 9 UDP/TLS/RTP/SAVPF ${audio.payloadType}`,
    ...transportLines(ice, '0', 'sendonly'),
    `a=rtpmap:${audio.payloadType} opus/48000/2`,
    `a=fmtp:${audio.payloadType} minptime=10;useinbandfec=1`,
    `a=ssrc:${audio.ssrc} cname:${cname}`,
    `a=ssrc:${audio.ssrc} msid:lt lt-audio`,
    `m=video 9 UDP/TLS/RTP/SAVPF ${video.payloadType}`,
    ...transportLines(ice, '1', 'sendonly'),
    `a=rtpmap:${video.payloadType} VP8/90000`,
    `a=rtcp-fb:${video.payloadType} nack`,
    `a=rtcp-fb:${video.payloadType} nack pli`,
    `a=rtcp-fb:${video.payloadType} ccm fir`,
    // One SSRC is a plain (non-simulcast) video track.
    ...(video.ssrcs.length > 1 ? [`a=ssrc-group:SIM ${video.ssrcs.join(' ')}`] : []),
    ...video.ssrcs.flatMap((s) => [`a=ssrc:${s} cname:${cname}`, `a=ssrc:${s} msid:lt lt-video`]),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/** The subscriber's answer to Janus' offer: every audio/video section received, anything else refused. */
export function subscriberAnswer(ice: LocalIce, offer: RemoteDescription): string {
  const mids = offer.media.map((m) => m.mid);
  const lines = [...sessionHead(), `a=group:BUNDLE ${mids.join(' ')}`, 'a=msid-semantic: WMS'];
  for (const m of offer.media) {
    if ((m.kind !== 'audio' && m.kind !== 'video') || m.port === 0) {
      lines.push(
        `m=${m.kind} 0 UDP/TLS/RTP/SAVPF ${m.payloadType}`,
        'c=IN IP4 0.0.0.0',
        `a=mid:${m.mid}`,
        'a=inactive',
      );
      continue;
    }
    lines.push(`m=${m.kind} 9 UDP/TLS/RTP/SAVPF ${m.payloadType}`, ...transportLines(ice, m.mid, 'recvonly'));
    lines.push(`a=rtpmap:${m.payloadType} ${m.rtpmap}`);
    if (m.kind === 'video')
      lines.push(
        `a=rtcp-fb:${m.payloadType} nack`,
        `a=rtcp-fb:${m.payloadType} nack pli`,
        `a=rtcp-fb:${m.payloadType} ccm fir`,
      );
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** What the generator needs from Janus' offer or answer; refuses SDP without ICE credentials or a sha-256 fingerprint. */
export function parseRemote(sdp: string): RemoteDescription {
  const out: RemoteDescription = { ufrag: '', pwd: '', iceLite: false, fingerprint: '', candidates: [], media: [] };
  let current: RemoteMedia | undefined;
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('m=')) {
      const [kind = '', port = '0', , pt = '0'] = line.slice(2).split(' ');
      current = {
        kind,
        mid: String(out.media.length),
        port: Number(port),
        payloadType: Number(pt),
        rtpmap: '',
        direction: 'sendrecv',
      };
      out.media.push(current);
      continue;
    }
    if (!line.startsWith('a=')) continue;
    const attr = line.slice(2);
    const colon = attr.indexOf(':');
    const name = colon < 0 ? attr : attr.slice(0, colon);
    const value = colon < 0 ? '' : attr.slice(colon + 1);
    switch (name) {
      case 'ice-ufrag':
        out.ufrag ||= value;
        break;
      case 'ice-pwd':
        out.pwd ||= value;
        break;
      case 'ice-lite':
        out.iceLite = true;
        break;
      case 'fingerprint': {
        const [alg, fp] = value.split(' ');
        if (alg?.toLowerCase() === 'sha-256' && fp) out.fingerprint ||= fp.toUpperCase();
        break;
      }
      case 'candidate': {
        const [foundation = '', component = '1', protocol = '', priority = '0', ip = '', port = '0', , type = 'host'] =
          value.split(' ');
        if (protocol.toLowerCase() === 'udp' && !out.candidates.some((c) => c.ip === ip && c.port === Number(port)))
          out.candidates.push({
            foundation,
            component: Number(component),
            priority: Number(priority),
            ip,
            port: Number(port),
            type,
          });
        break;
      }
      case 'mid':
        if (current) current.mid = value;
        break;
      case 'rtpmap':
        if (current && !current.rtpmap && value.startsWith(`${current.payloadType} `))
          current.rtpmap = value.slice(value.indexOf(' ') + 1);
        break;
      case 'ssrc':
        if (current && current.ssrc === undefined) current.ssrc = Number(value.split(' ')[0]);
        break;
      case 'sendrecv':
      case 'sendonly':
      case 'recvonly':
      case 'inactive':
        if (current) current.direction = name;
        break;
    }
  }
  if (!out.ufrag || !out.pwd) throw new LoadTestError('SERVER_REFUSED', 'janus sent SDP without ICE credentials');
  if (!out.fingerprint) throw new LoadTestError('SERVER_REFUSED', 'janus sent SDP without a sha-256 DTLS fingerprint');
  return out;
}
