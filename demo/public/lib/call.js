/**
 * One joined consult: wires the SDK room to the tiles, controls, status line
 * and the side panels (waiting room, chat, records, opinion), and keeps
 * `state` (also exposed to tests as window.huizhen.state) in step.
 * Everything here goes through the public SDK API only.
 */
import { RoomEvent } from '/sdk/huizhen-client.js';
import { ChatPanel } from './chat.js';
import { closeOpen } from './dialog.js';
import { describeError } from './errors.js';
import { byId } from './dom.js';
import { HostControls } from './host.js';
import { Lobby } from './lobby.js';
import { OpinionPanel } from './opinions.js';
import { watchQuality } from './quality.js';
import { RecordsPanel } from './records/panel.js';
import { createVitalsState, startVitals } from './vitals.js';
import { createRecordingState, startRecording } from './recording.js';
import { RecordViewer } from './records/viewer.js';
import { isClinician } from './roles.js';
import { showConnectionState, showError } from './status.js';

/** Newest events the test hook keeps; enough for a long consult, bounded for memory. */
const EVENT_LOG_LIMIT = 500;
/** How long "Reconnected." stays up before the banner goes away. */
const BANNER_BACK_MS = 1500;

/** @param {{ identity: string, name?: string, role?: string }} p */
const who = (p) => ({ identity: p.identity, name: p.name, role: p.role });

/** Why the SDK disconnected, in words (DisconnectReason values); used when no error explains it. */
const DISCONNECT_TEXT = Object.freeze({
  clientInitiated: 'You left the consult.',
  duplicateIdentity: 'You joined this consult from another window or device, so this one was closed.',
  roomClosed: 'The consult has ended.',
  roomEnded: 'The consult has ended.',
  removed: 'A host removed you from this consult. You cannot rejoin it. [REMOVED]',
  admissionDenied: 'You were not admitted to this consult. [ADMISSION_DENIED]',
  tokenExpired: 'Your join link has expired. Ask for a new one to rejoin.',
  serverShutdown: 'The consult server is restarting. Please join again in a moment.',
  serverClosed: 'The consult server closed the connection.',
  connectionLost: 'The connection to the consult server was lost.',
  mediaSetupFailed: 'Audio and video could not be started in this browser.',
});

/**
 * The sentence shown on the start page after the session ended. For a denial,
 * removal or end the server sends the clinician's own words as the message.
 * @param {string} reason  @param {any} [error]
 */
function endText(reason, error) {
  const said = error && typeof error.message === 'string' && error.message ? error.message : '';
  switch (reason) {
    case 'admissionDenied':
      return said
        ? `You were not admitted to this consult. The clinician said: “${said}” [ADMISSION_DENIED]`
        : DISCONNECT_TEXT.admissionDenied;
    case 'removed':
      return said
        ? `A host removed you from this consult: “${said}” You cannot rejoin it. [REMOVED]`
        : DISCONNECT_TEXT.removed;
    case 'roomEnded':
      return said ? `The consult has ended: ${said}` : DISCONNECT_TEXT.roomEnded;
    default:
      return error
        ? describeError(error, 'Disconnected')
        : (DISCONNECT_TEXT[reason] ?? 'You were disconnected from the consult.');
  }
}

/** The fresh per-call state object; plain data so tests can read it as JSON. */
export function createCallState() {
  return {
    /** 'joining' | 'in-call' | 'ended' */
    phase: 'joining',
    connectionState: 'connecting',
    /** 'waiting' while in a consult's waiting room, until a clinician admits us. */
    admission: 'admitted',
    room: '',
    /** consult | clinic | rounds */
    kind: '',
    locked: false,
    identity: '',
    name: '',
    role: '',
    mic: false,
    camera: false,
    screen: false,
    /** @type {{ allowUnmute: boolean, by: string } | null} set while a host keeps our microphone off */
    mutedByHost: null,
    /** @type {string | null} */
    activeSpeaker: null,
    /** @type {string | null} the connection banner's text while shown */
    banner: null,
    /** @type {string[]} remote identities whose connection dropped and who have not come back yet */
    reconnecting: [],
    /** @type {{ identity: string, name: string, role: string, since: number }[]} (clinicians who may admit) */
    waiting: [],
    /** @type {{ seq: number, from: string, to: string, text: string }[]} the chat as shown */
    chat: [],
    /** @type {{ identity: string, version: number, text: string }[]} */
    opinions: [],
    /** @type {{ id: string, name: string, type: string, visibility: string }[]} the records list as shown */
    records: [],
    /** @type {any} what the record viewer shows (see records/viewer.js) */
    viewer: null,
    /** @type {any} the consult summary, once this participant ended the consult */
    summary: null,
    /** @type {string | null} */
    lastError: null,
    /** @type {string | null} why the call ended, once it has */
    endReason: null,
    /** @type {{ type: string, identity?: string, kind?: string, source?: string, detail?: string, at: number }[]} */
    events: [],
    /** @type {Record<string, { quality: string, audioOnly: boolean, directions: string[] }>} connection quality by identity */
    quality: {},
    // --- vitals (see vitals.js)
    vitals: createVitalsState(),
    // --- recording (see recording.js)
    recording: createRecordingState(),
  };
}

export class Call {
  #room;
  #tiles;
  #controls;
  #side;
  #state;
  #prefs;
  #onEnded;
  #tracks = { mic: null, camera: null, screen: null };
  /** False once the server refused a kind of media for this role. */
  #allowed = { mic: true, camera: true };
  /** Parts that exist while admitted: panels, host controls, the record viewer. */
  #parts = {
    lobby: null,
    chat: null,
    opinions: null,
    records: null,
    viewer: null,
    host: null,
    vitals: null,
    recording: null,
  };
  /** Set while this participant ends the consult: resolves with its summary. */
  #ending = null;
  #bannerTimer = 0;
  /** Media transports that are currently interrupted. */
  #mediaDown = new Set();

  /**
   * @param {any} room  a connected SDK Room
   * @param {{ tiles: import('./tiles.js').TileGrid, controls: ReturnType<typeof import('./controls.js').createControls>,
   *           side: import('./panels.js').SidePanel, state: ReturnType<typeof createCallState>, roomName: string,
   *           prefs: { camera: boolean, mic: boolean },
   *           onEnded(reason: string, how: { byUser: boolean, summary?: any }): void }} deps
   */
  constructor(room, { tiles, controls, side, state, roomName, prefs, onEnded }) {
    this.#room = room;
    this.#tiles = tiles;
    this.#controls = controls;
    this.#side = side;
    this.#state = state;
    this.#prefs = prefs;
    this.#onEnded = onEnded;
    const me = room.localParticipant;
    Object.assign(state, {
      phase: 'in-call',
      room: roomName,
      kind: room.kind ?? '',
      identity: me.identity,
      name: me.name,
      role: me.role,
    });
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
    this.#controls.showScreen(false);
    if (room.admission === 'waiting') {
      this.#enterWaiting();
      return;
    }
    await this.#enterRoom();
  }

  /** Nothing can be seen, heard or published in the waiting room; `admitted` resumes start-up. */
  #enterWaiting() {
    this.#state.admission = 'waiting';
    document.body.dataset.admission = 'waiting';
    this.#showNotice(
      'You are in the waiting room. A clinician will let you in shortly; your camera and microphone start then.',
    );
    this.#controls.setMic(false, false, 'Mic after admission');
    this.#controls.setCam(false, false, 'Camera after admission');
  }

  async #enterRoom() {
    const room = this.#room;
    this.#state.admission = 'admitted';
    document.body.dataset.admission = 'admitted';
    this.#state.kind = room.kind ?? '';
    this.#state.locked = room.info?.locked ?? false;
    this.#showNotice(null);
    for (const participant of room.remoteParticipants.values()) {
      this.#tiles.addParticipant(who(participant));
      if (participant.isReconnecting) this.#setRemoteReconnecting(participant.identity, true);
    }
    this.#startParts();
    this.#controls.setMic(false);
    this.#controls.setCam(false);
    this.#controls.setScreen(false);
    this.#controls.showScreen(room.can('publishScreen'));
    await this.#publishInitialMedia();
  }

  /** Side panels, host controls and the record viewer: what an admitted participant may use. */
  #startParts() {
    if (this.#parts.chat) return;
    const room = this.#room;
    const side = this.#side;
    const report = (err, context) => this.#reportError(describeError(err, context, { detail: true }));
    const parts = this.#parts;

    parts.host = new HostControls(room, {
      report,
      onEnding: (ending) => {
        this.#ending = ending.catch(() => null);
      },
    });
    parts.host.start();
    this.#tiles.setDecorator((p, { local, source }) =>
      local || source !== 'camera' ? null : parts.host.tileActions(p),
    );

    if (room.can('admit')) {
      const section = side.add('people', 'Waiting');
      parts.lobby = new Lobby(room, section, {
        report,
        onChange: (waiting) => {
          this.#state.waiting = waiting.map((w) => ({
            identity: w.identity,
            name: w.name,
            role: w.role,
            since: w.since,
          }));
          side.setBadge('people', waiting.length);
        },
      });
    }
    const chatSection = side.add('chat', 'Chat');
    parts.chat = new ChatPanel(room, chatSection, {
      report,
      onMessage: (message, shown) => {
        this.#state.chat = shown;
        if (message) {
          this.#log('chat', { identity: message.from.identity, detail: String(message.seq) });
          if (message.from.identity !== room.localParticipant.identity) side.bump('chat');
        }
      },
    });
    if (room.can('viewRecords')) {
      const recordsSection = side.add('records', 'Records');
      parts.viewer = new RecordViewer(room, byId('viewer'), {
        report,
        onChange: (viewer) => {
          this.#state.viewer = viewer;
          byId('stage').dataset.viewer = String(Boolean(viewer));
        },
        log: (type, fields) => this.#log(type, fields),
      });
      parts.records = new RecordsPanel(room, recordsSection, {
        report,
        onChange: (records) => {
          this.#state.records = records;
        },
        onNew: () => side.bump('records'),
      });
    }
    if (isClinician(room.localParticipant.role)) {
      const opinionSection = side.add('opinion', 'Opinion');
      parts.opinions = new OpinionPanel(room, opinionSection, {
        report,
        onChange: (opinions) => {
          this.#state.opinions = opinions;
        },
      });
    }
    // --- vitals: patients connect devices, clinicians see live numbers and alerts
    parts.vitals = startVitals(room, {
      side,
      tiles: this.#tiles,
      stage: byId('stage'),
      state: this.#state.vitals,
      report,
    });
    // --- recording: the REC indicator, the consent prompt and the record / withdraw / stop buttons
    parts.recording = startRecording(room, { state: this.#state.recording, report });
    // On a phone the picture comes first: the panel starts folded.
    side.show(parts.lobby ? 'people' : 'chat', { open: false });
  }

  #stopParts() {
    for (const part of Object.values(this.#parts)) part?.dispose?.();
    this.#parts = {
      lobby: null,
      chat: null,
      opinions: null,
      records: null,
      viewer: null,
      host: null,
      vitals: null,
      recording: null,
    };
    this.#tiles.setDecorator(null);
    this.#side.clear();
    byId('stage').dataset.viewer = 'false';
  }

  /** @param {string | null} text */
  #showNotice(text) {
    const notice = byId('call-notice');
    notice.textContent = text ?? '';
    notice.hidden = !text;
  }

  /**
   * The banner over the call while the connection is interrupted.
   * @param {'reconnecting' | 'media' | 'back' | null} kind
   */
  #banner(kind) {
    const banner = byId('conn-banner');
    clearTimeout(this.#bannerTimer);
    const text =
      kind === 'reconnecting'
        ? 'Connection lost. Reconnecting…'
        : kind === 'media'
          ? 'Audio and video interrupted. Reconnecting…'
          : kind === 'back'
            ? 'Reconnected.'
            : null;
    banner.textContent = text ?? '';
    banner.dataset.state = kind ?? 'none';
    banner.hidden = !text;
    this.#state.banner = text;
    if (kind === 'back') this.#bannerTimer = window.setTimeout(() => this.#banner(null), BANNER_BACK_MS);
  }

  async toggleMic() {
    const enable = !this.#state.mic;
    await this.#run(enable ? 'Could not turn the microphone on' : 'Could not mute the microphone', async () => {
      const lp = this.#room.localParticipant;
      // The first enable publishes the microphone (e.g. after a refused permission); later calls mute/unmute.
      const track = await lp.setMicrophoneEnabled(enable);
      if (track) this.#tracks.mic = track;
      this.#state.mic = enable;
      if (enable) this.#state.mutedByHost = null;
      if (this.#tracks.mic) this.#tiles.attach(who(lp), this.#tracks.mic, { local: true, muted: !enable });
    });
    this.#renderMic();
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
    this.#end('You left the consult.', { byUser: true });
    try {
      this.#room.disconnect();
    } catch {
      // Already closed: nothing left to release.
    }
  }

  #renderMic() {
    const held = this.#state.mutedByHost;
    if (held && !held.allowUnmute) this.#controls.setMic(false, false, 'Muted by host');
    else this.#controls.setMic(this.#state.mic, this.#allowed.mic);
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
    const room = this.#room;
    const lp = room.localParticipant;
    this.#allowed.mic = room.can('publishAudio');
    this.#allowed.camera = room.can('publishVideo');
    // One after the other: two parallel permission prompts confuse users.
    for (const [slot, publish] of /** @type {const} */ ([
      ['mic', () => lp.publishMicrophone()],
      ['camera', () => lp.publishCamera()],
    ])) {
      // Roles without the permission (observers, interpreters' camera, rounds viewers) never ask for the device.
      if (!this.#allowed[slot]) continue;
      // "Camera off when I join": nothing is captured until the user turns it on.
      if (!(slot === 'mic' ? this.#prefs.mic : this.#prefs.camera)) continue;
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
        this.#reportError(
          denied ? `Your role joins without a ${what}.` : describeError(err, `Could not start the ${what}`),
        );
        if (denied) this.#allowed[slot] = false;
      }
    }
    this.#renderMic();
    this.#controls.setCam(this.#state.camera, this.#allowed.camera);
  }

  #setRemoteReconnecting(identity, reconnecting) {
    this.#tiles.setReconnecting(identity, reconnecting);
    const others = this.#state.reconnecting.filter((i) => i !== identity);
    this.#state.reconnecting = reconnecting ? [...others, identity] : others;
  }

  #listen() {
    const room = this.#room;
    const tiles = this.#tiles;
    // --- TURN: the relay refused this client's credentials (expired, or a misconfigured secret)
    room.on(RoomEvent.IceServerError, (error) => {
      this.#reportError(describeError(error, 'The media relay refused this connection'));
    });
    // --- connection quality
    watchQuality(room, tiles, this.#state, (type, fields) => this.#log(type, fields));
    room.on(RoomEvent.Admitted, () => {
      this.#log('admitted', {});
      if (this.#state.admission === 'waiting') void this.#enterRoom();
    });
    room.on(RoomEvent.ParticipantJoined, (p) => {
      this.#log('participantJoined', { identity: p.identity });
      tiles.addParticipant(who(p));
    });
    room.on(RoomEvent.ParticipantLeft, (p, reason) => {
      this.#log('participantLeft', { identity: p.identity, detail: reason });
      tiles.removeParticipant(p.identity);
      this.#setRemoteReconnecting(p.identity, false);
      if (this.#state.activeSpeaker === p.identity) this.#state.activeSpeaker = null;
    });
    room.on(RoomEvent.ParticipantReconnecting, (p) => {
      this.#log('participantReconnecting', { identity: p.identity });
      this.#setRemoteReconnecting(p.identity, true);
    });
    room.on(RoomEvent.ParticipantReconnected, (p) => {
      this.#log('participantReconnected', { identity: p.identity });
      this.#setRemoteReconnecting(p.identity, false);
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
    room.on(RoomEvent.Reconnecting, (error) => {
      this.#log('reconnecting', { detail: error?.code });
      this.#banner('reconnecting');
    });
    room.on(RoomEvent.Reconnected, (resumed) => {
      this.#log('reconnected', { detail: resumed ? 'resumed' : 'fresh' });
      this.#banner(this.#mediaDown.size > 0 ? 'media' : 'back');
      void this.#afterReconnect();
    });
    room.on(RoomEvent.MediaConnectionStateChanged, (direction, mediaState) => {
      this.#log('mediaConnectionStateChanged', { kind: direction, detail: mediaState });
      if (mediaState === 'failed' || mediaState === 'disconnected') this.#mediaDown.add(direction);
      else if (mediaState === 'connected' || mediaState === 'closed') this.#mediaDown.delete(direction);
      if (this.#state.connectionState === 'reconnecting') return;
      if (this.#mediaDown.size > 0) this.#banner('media');
      else if (this.#state.banner && this.#state.banner !== 'Reconnected.') this.#banner('back');
    });
    room.on(RoomEvent.RoomUpdated, (info) => {
      this.#log('roomUpdated', { detail: `${info.state}${info.locked ? ',locked' : ''}` });
      this.#state.locked = info.locked;
      this.#state.kind = info.kind;
    });
    room.on(RoomEvent.LocalTrackUnpublished, (track) => {
      this.#log('localTrackUnpublished', { kind: track.kind, source: track.source });
      if (track.source === 'screen') this.#screenGone(track);
    });
    room.on(RoomEvent.MutedByHost, (track, by, allowUnmute) => {
      this.#log('mutedByHost', {
        kind: track.kind,
        source: track.source,
        identity: by?.identity,
        detail: allowUnmute ? 'allowUnmute' : 'held',
      });
      const slot = track.source === 'microphone' ? 'mic' : track.source === 'camera' ? 'camera' : null;
      if (!slot) return;
      this.#state[slot] = false;
      this.#tiles.attach(who(room.localParticipant), track, { local: true, muted: true });
      const host = by?.name || 'The host';
      const what = slot === 'mic' ? 'microphone' : 'camera';
      if (slot === 'mic') {
        this.#state.mutedByHost = { allowUnmute: Boolean(allowUnmute), by: by?.identity ?? '' };
        this.#renderMic();
      } else {
        this.#controls.setCam(false, this.#allowed.camera);
      }
      this.#reportError(
        allowUnmute
          ? `${host} turned off your ${what}. You can turn it back on when you need to speak.`
          : `${host} turned off your ${what}. Only the host can let you turn it back on.`,
      );
    });
    room.on(RoomEvent.MediaPlaybackBlocked, () => {
      this.#reportError('The browser paused the sound. Click anywhere on the page to hear the others.');
    });
    room.on(RoomEvent.Disconnected, (reason, error) => {
      this.#log('disconnected', { detail: reason });
      void this.#disconnected(reason, error);
    });
  }

  /** Catch up after a reconnect: what the panels show, and the lobby if the server put us back there. */
  async #afterReconnect() {
    const room = this.#room;
    if (room.admission === 'waiting' && this.#state.admission === 'admitted') {
      // The outage outlasted the server's grace period and this consult holds newcomers in the lobby.
      this.#stopParts();
      for (const slot of /** @type {const} */ (['mic', 'camera'])) {
        this.#tracks[slot] = null;
        this.#state[slot] = false;
      }
      this.#controls.setMic(false, false);
      this.#controls.setCam(false, false);
      this.#controls.setScreen(false, false);
      this.#enterWaiting();
      return;
    }
    this.#parts.chat?.syncHistory();
    await this.#parts.opinions?.refresh();
    await this.#parts.records?.refresh();
  }

  async #disconnected(reason, error) {
    let summary = null;
    if (reason === 'roomEnded' && this.#ending) {
      // We ended it: show the summary the server answered with.
      summary = await Promise.race([this.#ending, new Promise((resolve) => setTimeout(() => resolve(null), 3000))]);
    }
    // Someone else ended it: clinicians get the summary with the news.
    if (reason === 'roomEnded' && !summary) summary = this.#room?.endSummary ?? null;
    this.#end(endText(reason, error), { byUser: reason === 'clientInitiated', summary });
  }

  #setConnectionState(connectionState) {
    // After the call ended the status line belongs to the join form again.
    if (this.#state.phase === 'ended') return;
    this.#state.connectionState = connectionState;
    showConnectionState(connectionState, connectionState === 'connected' ? `Room ${this.#state.room}.` : undefined);
  }

  /** Ends the call once, whoever noticed first (Leave button or the SDK). */
  #end(reason, { byUser = false, summary = null } = {}) {
    if (this.#state.phase === 'ended') return;
    closeOpen();
    this.#showNotice(null);
    this.#banner(null);
    this.#stopParts();
    delete document.body.dataset.admission;
    this.#state.phase = 'ended';
    this.#state.endReason = reason;
    this.#state.summary = summary;
    this.#state.connectionState = 'disconnected';
    this.#onEnded(reason, { byUser, ...(summary ? { summary } : {}) });
  }

  /** Runs a user action; a failure becomes a status-line sentence, never an unhandled rejection. */
  async #run(context, action) {
    try {
      await action();
    } catch (err) {
      if (this.#state.phase !== 'in-call') return;
      this.#reportError(
        err && err.name === 'NotAllowedError' && context.includes('share')
          ? 'Screen sharing was cancelled.'
          : describeError(err, context),
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
