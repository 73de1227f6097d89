/**
 * Local UDP ports for ffmpeg. ffmpeg's RTP input binds the port named in its
 * SDP and the next one (RTCP), so we look for a free pair the OS hands out.
 * Whether ffmpeg has bound its port yet is told by trying to bind it again.
 */
import { createSocket, type Socket } from 'node:dgram';

function bind(port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(undefined);
    });
    socket.bind(port, '127.0.0.1', () => resolve(socket));
  });
}

/** An even-numbered free port whose successor is also free (both released again before ffmpeg binds them). */
export async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await bind(0);
    if (!first) continue;
    const port = first.address().port;
    const second = port < 65535 ? await bind(port + 1) : undefined;
    first.close();
    second?.close();
    if (second) return port;
  }
  throw new Error('no free local UDP port pair for the recorder');
}

/** True once something (ffmpeg) holds the port. */
export async function isBound(port: number): Promise<boolean> {
  const probe = await bind(port);
  probe?.close();
  return !probe;
}
