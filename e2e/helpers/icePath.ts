/**
 * Which network path a page's media really takes: the selected ICE candidate
 * pair of every connected peer connection (from the browser's own getStats),
 * and the ICE servers the SDK configured.
 */
import type { DemoPage } from './browser.js';

export interface IcePath {
  connectionState: string;
  /** host | srflx | prflx | relay */
  localType: string;
  /** udp | tcp: how this browser sends (to the TURN server, for a relay). */
  localProtocol: string;
  /** For a relay candidate: how the browser reaches the TURN server. */
  relayProtocol: string | null;
  remoteType: string;
  remoteProtocol: string;
  /** Every remote candidate the browser was offered, as "type/protocol". */
  remoteCandidates: string[];
}

/** The selected pair of each connected (or connecting with a pair) peer connection of the page. */
export async function icePaths(demo: DemoPage): Promise<IcePath[]> {
  return demo.page.evaluate(async () => {
    const pcs = (window as unknown as { __hzPeerConnections?: RTCPeerConnection[] }).__hzPeerConnections ?? [];
    const out: IcePath[] = [];
    for (const pc of pcs) {
      if (pc.connectionState === 'closed') continue;
      const report = await pc.getStats();
      const byId = new Map<string, Record<string, unknown>>();
      report.forEach((s: Record<string, unknown>) => byId.set(String(s.id), s));
      const remoteCandidates = [...byId.values()]
        .filter((s) => s.type === 'remote-candidate')
        .map((s) => `${String(s.candidateType)}/${String(s.protocol)}`);
      for (const s of byId.values()) {
        if (s.type !== 'transport' || typeof s.selectedCandidatePairId !== 'string') continue;
        const pair = byId.get(s.selectedCandidatePairId);
        const local = pair && byId.get(String(pair.localCandidateId));
        const remote = pair && byId.get(String(pair.remoteCandidateId));
        if (!local || !remote) continue;
        out.push({
          connectionState: pc.connectionState,
          localType: String(local.candidateType),
          localProtocol: String(local.protocol),
          relayProtocol: typeof local.relayProtocol === 'string' ? local.relayProtocol : null,
          remoteType: String(remote.candidateType),
          remoteProtocol: String(remote.protocol),
          remoteCandidates,
        });
      }
    }
    return out;
  });
}

/** The peer connections' states (to see that ICE did not get through). */
export async function peerConnectionStates(demo: DemoPage): Promise<string[]> {
  return demo.page.evaluate(() =>
    ((window as unknown as { __hzPeerConnections?: RTCPeerConnection[] }).__hzPeerConnections ?? []).map(
      (pc) => `${pc.connectionState}/${pc.iceConnectionState}`,
    ),
  );
}

/** The ICE servers and policy each open peer connection was configured with. */
export async function iceConfigs(
  demo: DemoPage,
): Promise<{ policy: string; servers: { urls: string[]; username?: string; credential?: string }[] }[]> {
  return demo.page.evaluate(() =>
    ((window as unknown as { __hzPeerConnections?: RTCPeerConnection[] }).__hzPeerConnections ?? [])
      // mediasoup-client opens (and closes) one to read the browser's capabilities.
      .filter((pc) => pc.connectionState !== 'closed')
      .map((pc) => {
        const config = pc.getConfiguration();
        return {
          policy: config.iceTransportPolicy ?? 'all',
          servers: (config.iceServers ?? []).map((s) => ({
            urls: Array.isArray(s.urls) ? s.urls : [s.urls],
            ...(s.username ? { username: s.username } : {}),
            ...(typeof s.credential === 'string' ? { credential: s.credential } : {}),
          })),
        };
      }),
  );
}
