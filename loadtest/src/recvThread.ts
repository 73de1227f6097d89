/**
 * A receive thread: owns the UDP sockets of a batch of receivers' plain
 * transports, stamps each datagram's arrival on the monotonic clock as soon as
 * this thread's loop sees it (not when the busy main loop would), decrypts it,
 * reads the RTP header and probe, and hands the main thread one Float64Array of
 * records per loop turn. Sends (subscribers' NACKs) come the other way and are
 * protected and sent here, on the socket the server knows.
 */
import { createSocket, type Socket } from 'node:dgram';
import { parentPort } from 'node:worker_threads';
import { monoMs } from './clock.js';
import { readProbe } from './rtp/media.js';
import { isRtcp, parseRtp } from './rtp/rtp.js';
import { SrtpContext } from './rtp/srtp.js';
import type { FromThread, ToThread } from './recvProtocol.js';

interface Entry {
  socket: Socket;
  inbound: SrtpContext | undefined;
  outbound: SrtpContext | undefined;
}

const port = parentPort;
if (!port) throw new Error('recvThread runs as a worker thread');
const entries = new Map<number, Entry>();
let records: number[] = [];
let srtpFailures = 0;
let rtcpPackets = 0;
let flushScheduled = false;

function post(msg: FromThread, transfer?: ArrayBuffer[]): void {
  port!.postMessage(msg, transfer);
}

function flush(): void {
  flushScheduled = false;
  if (records.length === 0 && srtpFailures === 0 && rtcpPackets === 0) return;
  const data = Float64Array.from(records);
  records = [];
  post({ type: 'batch', data, srtpFailures, rtcpPackets }, [data.buffer as ArrayBuffer]);
  srtpFailures = 0;
  rtcpPackets = 0;
}

function onDatagram(id: number, entry: Entry, raw: Buffer): void {
  const at = monoMs();
  const rtcp = isRtcp(raw);
  let clear: Buffer | undefined = raw;
  if (entry.inbound) {
    try {
      clear = rtcp ? entry.inbound.unprotectRtcp(raw) : entry.inbound.unprotectRtp(raw);
    } catch {
      srtpFailures++;
      clear = undefined;
    }
  }
  if (clear && rtcp) rtcpPackets++;
  else if (clear) {
    const rtp = parseRtp(clear);
    if (rtp) {
      const probe = readProbe(clear, rtp.payloadStart, rtp.payloadEnd);
      records.push(
        id,
        rtp.ssrc,
        rtp.seq,
        clear.length,
        at,
        probe ? probe.sentAtMs : Number.NaN,
        probe?.streamIndex ?? 0,
      );
    }
  }
  // One message per loop turn: everything this turn's poll phase read goes out together.
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

port.on('message', (msg: ToThread) => {
  if (msg.type === 'open') {
    const socket = createSocket({ type: 'udp4', recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
    const entry: Entry = {
      socket,
      inbound: msg.inbound ? new SrtpContext(msg.inbound) : undefined,
      outbound: msg.outbound ? new SrtpContext(msg.outbound) : undefined,
    };
    const fail = (err: Error) => post({ type: 'opened', req: msg.req, error: err.message });
    socket.once('error', fail);
    socket.bind(0, '127.0.0.1', () => {
      socket.connect(msg.port, msg.ip, () => {
        socket.off('error', fail);
        socket.on('error', () => undefined);
        entries.set(msg.id, entry);
        socket.on('message', (raw) => onDatagram(msg.id, entry, raw));
        post({ type: 'opened', req: msg.req, localPort: socket.address().port });
      });
    });
  } else if (msg.type === 'send') {
    const e = entries.get(msg.id);
    if (!e) return;
    const clear = Buffer.from(msg.packet.buffer, msg.packet.byteOffset, msg.packet.byteLength);
    const out = e.outbound ? (isRtcp(clear) ? e.outbound.protectRtcp(clear) : e.outbound.protectRtp(clear)) : clear;
    e.socket.send(out, () => undefined);
  } else if (msg.type === 'close') {
    const e = entries.get(msg.id);
    entries.delete(msg.id);
    e?.socket.close();
  }
});
