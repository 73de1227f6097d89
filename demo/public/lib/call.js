/**
 * One joined consult: wires the SDK room to the tiles, controls and status
 * line, and keeps `state` (also exposed to tests as window.huizhen.state) in
 * step. Everything here goes through the public SDK API only.
 */
import { RoomEvent } from '/sdk/huizhen-client.js';
import { describeError } from './errors.js';
import { byId } from './dom.js';
import { showConnectionState, showError } from './status.js';

/** Newest events the test hook keeps; enough for a long consult, bounded for memory. */
const EVENT_LOG_LIMIT = 500;

/** @param {{ identity: string, name?: string, role?: string }} p */
const who = (p) => ({ identity: p.identity, name: p.name, role: p.role });

/** Why the SDK disconnected, in words (DisconnectReason values); used when no error explains it. */
const DISCONNECT_TEXT = Object.freeze({
  clientInitiated: 'You left the consult.',
  duplicateIdentity: 'You joined this consult from another window or device, so this one was closed.',
  roomClosed: 'The consult has ended.',
  tokenExpired: 'Your join link has expired. Ask for a new one to rejoin.',
  serverShutdown: 'The consult server is restarting. Please join again in a moment.',
  serverClosed: 'The consult server closed the connection.',
  connectionLost: 'The connection to the consult server was lost.',
});

/** The fresh per-call state object; plain data so tests can read it as JSON. */
export function createCallState() {
  return {
    /** 'joining' | 'in-call' | 'ended' */
    phase: 'joining',
    connectionState: 'connecting',
    /** 'waiting' while in a consult's waiting room, until a clinician admits us. */
    admission: 'admitted',
    room: '',
    identity: '',
    name: '',
    role: '',
    mic: false,
    camera: false,
    screen: false,
    /** @type {string | null} */
    activeSpeaker: null,
    /** @type {string | null} */
    lastError: null,
    /** @type {string | null} why the call ended, once it has */
    endReason: null,
    /** @type {{ type: string, identity?: string, kind?: string, source?: string, detail?: string, at: number }[]} */
    events: [],
  };
}

export class Call {
  #room;
  #tiles;
  #controls;
  #state;
  #onEnded;
  #tracks = { mic: null, camera: null, screen: null };
  /** False once the server refused a kind of media for this role. */
  #allowed = { mic: true, camera: true };

  /**
   * @param {any} room  a connected SDK Room
   * @param {{ tiles: import('./tiles.js').TileGrid, controls: ReturnType<typeof import('./controls.js').createControls>,
   *           state: ReturnType<typeof createCallState>, roomName: string, onEnded(reason: string, how: { byUser: boolean }): void }} deps
   */
  constructor(room, { tiles, controls, state, roomName, onEnded }) {
    this.#room = room;
    this.#tiles = tiles;
    this.#controls = controls;
    this.#state = state;
    this.#onEnded = onEnded;
    const me = room.localParticipant;
    Object.assign(state, { phase: 'in-call', room: roomName, identity: me.identity, name: me.name, role: me.role });
  }

  get room() {
    return this.#room;
  }

  /** Renders who is already here, starts listening, then publishes camera and mic (once admitted). */
  async start() {
    const room = this.#room;
    this.#listen();
    this.#setConnectionState('connected');
    this.#tiles.addParticipant(who(room.localParticipant), true);
    this.#controls.setMic(false, false);
    this.#controls.setCam(false, false);
    this.#controls.setScreen(false, false);
    if (room.admission === 'waiting') {
      // Nothing can be seen, heard or published in the waiting room; `admitted` resumes start-up.
      this.#state.admission = 'waiting';
      this.#showNotice('You are in the waiting room. A clinician will let you in shortly.');
      return;
    }
    await this.#enterRoom();
  }

  async #enterRoom() {
    this.#state.admission = 'admitted';
    this.#showNotice(null);
    for (const participant of this.#room.remoteParticipants.values()) this.#tiles.addParticipant(who(participant));
    this.#controls.setMic(false);
    this.#controls.setCam(false);
    this.#controls.setScreen(false);
    await this.#publishInitialMedia();
  }

  /** @param {string | null} text */
  #showNotice(text) {
    const notice = byId('call-notice');
    notice.textContent = text ?? '';
    notice.hidden = !text;
  }

  async toggleMic() {
    const enable = !this.#state.mic;
    await this.#run(enable ? 'Could not turn the microphone on' : 'Could not mute the microphone', async () => {
      const lp = this.#room.localParticipant;
      // The first enable publishes the microphone (e.g. after a refused permission); later calls mute/unmute.
      const track = await lp.setMicrophoneEnabled(enable);
      if (track) this.#tracks.mic = track;
      this.#state.mic = enable;
      if (this.#tracks.mic) this.#tiles.attach(who(lp), this.#tracks.mic, { local: true, muted: !enable });
    });
    this.#controls.setMic(this.#state.mic, this.#allowed.mic);
  }

  async toggleCam() {
    const enable = !this.#state.camera;
    await this.#run(enable ? 'Could not turn the camera on' : 'Could not turn the camera off', async () => {
      const lp = this.#room.localParticipant;
      const track = await lp.setCameraEnabled(enable);
      if (track) this.#tracks.camera = track;
      this.#state.camera = enable;
      if (this.#tracks.camera) this.#tiles.attach(who(lp), this.#tracks.camera, { local: true, muted: !enable });
    });
    this.#controls.setCam(this.#state.camera, this.#allowed.camera);
  }

  async toggleScreen() {
    if (this.#state.screen) {
      await this.#stopScreen();
      return;
    }
    await this.#run('Could not share the screen', async () => {
      const lp = this.#room.localParticipant;
      const track = await lp.publishScreen();
      this.#tracks.screen = track;
      this.#state.screen = true;
      this.#tiles.attach(who(lp), track, { local: true });
    });
    this.#controls.setScreen(this.#state.screen);
  }

  /** The user pressed Leave. */
  leave() {
    this.#end('You left the consult.', true);
    try {
      this.#room.disconnect();
    } catch {
      // Already closed: nothing left to release.
    }
  }

  async #stopScreen() {
    const track = this.#tracks.screen;
    if (!track) return;
    this.#screenGone(track);
    await this.#run('Could not stop sharing', () => track.unpublish());
  }

  /** The screen share ended: by our button, or by the browser's own "Stop sharing". */
  #screenGone(track) {
    if (this.#tracks.screen !== track) return;
    this.#tracks.screen = null;
    this.#state.screen = false;
    this.#tiles.detach(this.#state.identity, track);
    this.#controls.setScreen(false);
  }

  /** Retries media the browser refused to autoplay; must run inside a user gesture. */
  resumeMedia() {
    this.#room.startMedia?.().catch(() => {});
    this.#tiles.resumePlayback();
  }

  async #publishInitialMedia() {
    const lp = this.#room.localParticipant;
    if (this.#state.role === 'observer') {
      // Observers watch only; the server would refuse their media anyway.
      this.#controls.setMic(false, false);
      this.#controls.setCam(false, false);
      this.#controls.setScreen(false, false);
      return;
    }
    // One after the other: two parallel permission prompts confuse users.
    for (const [slot, publish] of /** @type {const} */ ([
      ['mic', () => lp.publishMicrophone()],
      ['camera', () => lp.publishCamera()],
    ])) {
      const what = slot === 'mic' ? 'microphone' : 'camera';
      try {
        const track = await publish();
        if (this.#state.phase !== 'in-call') return;
        this.#tracks[slot] = track;
        this.#state[slot] = true;
        this.#tiles.attach(who(lp), track, { local: true });
      } catch (err) {
        // After a disconnect the pending publish fails too; the end reason already says why.
        if (this.#state.phase !== 'in-call') return;
        const denied = err && err.code === 'PERMISSION_DENIED';
        this.#reportError(denied ? `Your role joins without a ${what}.` : describeError(err, `Could not start the ${what}`));
        if (denied) this.#allowed[slot] = false;
      }
    }
    this.#controls.setMic(this.#state.mic, this.#allowed.mic);
    this.#controls.setCam(this.#state.camera, this.#allowed.camera);
  }

  #listen() {
    const room = this.#room;
    const tiles = this.#tiles;
    room.on(RoomEvent.Admitted, () => {
      this.#log('admitted', {});
      if (this.#state.admission === 'waiting') void this.#enterRoom();
    });
    room.on(RoomEvent.ParticipantJoined, (p) => {
      this.#log('participantJoined', { identity: p.identity });
      tiles.addParticipant(who(p));
    });
    room.on(RoomEvent.ParticipantLeft, (p) => {
      this.#log('participantLeft', { identity: p.identity });
      tiles.removeParticipant(p.identity);
      if (this.#state.activeSpeaker === p.identity) this.#state.activeSpeaker = null;
    });
    room.on(RoomEvent.TrackSubscribed, (track, p) => {
      this.#log('trackSubscribed', { identity: p.identity, kind: track.kind, source: track.source });
      // A track may arrive already muted (the publisher joined with it off).
      tiles.attach(who(p), track, { muted: track.muted });
    });
    room.on(RoomEvent.TrackUnsubscribed, (track, p) => {
      this.#log('trackUnsubscribed', { identity: p.identity, kind: track.kind, source: track.source });
      tiles.detach(p.identity, track);
    });
    room.on(RoomEvent.TrackMuted, (track, p) => {
      this.#log('trackMuted', { identity: p.identity, kind: track.kind, source: track.source });
      tiles.setTrackMuted(p.identity, track, true);
    });
    room.on(RoomEvent.TrackUnmuted, (track, p) => {
      this.#log('trackUnmuted', { identity: p.identity, kind: track.kind, source: track.source });
      tiles.setTrackMuted(p.identity, track, false);
    });
    room.on(RoomEvent.ActiveSpeakerChanged, (p) => {
      const identity = p ? p.identity : null;
      this.#state.activeSpeaker = identity;
      this.#log('activeSpeakerChanged', identity ? { identity } : {});
      tiles.setActiveSpeaker(identity);
    });
    room.on(RoomEvent.ConnectionStateChanged, (connectionState) => {
      this.#log('connectionStateChanged', { detail: connectionState });
      this.#setConnectionState(connectionState);
    });
    room.on(RoomEvent.LocalTrackUnpublished, (track) => {
      this.#log('localTrackUnpublished', { kind: track.kind, source: track.source });
      if (track.source === 'screen') this.#screenGone(track);
    });
    room.on(RoomEvent.MutedByHost, (track, by) => {
      this.#log('mutedByHost', { kind: track.kind, source: track.source, identity: by?.identity });
      const slot = track.source === 'microphone' ? 'mic' : track.source === 'camera' ? 'camera' : null;
      if (!slot) return;
      this.#state[slot] = false;
      this.#tiles.attach(who(room.localParticipant), track, { local: true, muted: true });
      if (slot === 'mic') this.#controls.setMic(false, this.#allowed.mic);
      else this.#controls.setCam(false, this.#allowed.camera);
      const what = slot === 'mic' ? 'microphone' : 'camera';
      this.#reportError(`${by?.name || 'The host'} turned off your ${what}.`);
    });
    room.on(RoomEvent.MediaPlaybackBlocked, () => {
      this.#reportError('The browser paused the sound. Click anywhere on the page to hear the others.');
    });
    room.on(RoomEvent.Disconnected, (reason, error) => {
      this.#log('disconnected', { detail: reason });
      const text = DISCONNECT_TEXT[reason] ?? 'You were disconnected from the consult.';
      this.#end(error ? describeError(error, 'Disconnected') : text, reason === 'clientInitiated');
    });
  }

  #setConnectionState(connectionState) {
    // After the call ended the status line belongs to the join form again.
    if (this.#state.phase === 'ended') return;
    this.#state.connectionState = connectionState;
    showConnectionState(connectionState, connectionState === 'connected' ? `Room ${this.#state.room}.` : undefined);
  }

  /** Ends the call once, whoever noticed first (Leave button or the SDK). */
  #end(reason, byUser = false) {
    if (this.#state.phase === 'ended') return;
    this.#showNotice(null);
    this.#state.phase = 'ended';
    this.#state.endReason = reason;
    this.#state.connectionState = 'disconnected';
    this.#onEnded(reason, { byUser });
  }

  /** Runs a user action; a failure becomes a status-line sentence, never an unhandled rejection. */
  async #run(context, action) {
    try {
      await action();
    } catch (err) {
      if (this.#state.phase !== 'in-call') return;
      this.#reportError(
        err && err.name === 'NotAllowedError' && context.includes('share') ? 'Screen sharing was cancelled.' : describeError(err, context),
      );
    }
  }

  #reportError(message) {
    this.#state.lastError = message;
    this.#log('error', { detail: message });
    showError(message);
  }

  #log(type, fields) {
    const events = this.#state.events;
    events.push({ type, ...fields, at: Date.now() });
    if (events.length > EVENT_LOG_LIMIT) events.splice(0, events.length - EVENT_LOG_LIMIT);
  }
}
