/**
 * Representative good payloads for every request, response and notification,
 * shaped like what the Huizhen server and SDK really send (ids, mediasoup
 * blobs as mediasoup 3.19 produces them). Used by protocol.test.ts.
 */
import type { Method, Notification } from '../messages.js';

const person = { identity: 'dr-zhang', name: 'Dr Zhang', role: 'doctor' };
const room = {
  id: 'consult-1',
  kind: 'consult',
  state: 'active',
  locked: false,
  host: 'dr-zhang',
  capacity: 8,
  createdAt: 1764626000000,
  startedAt: 1764626001000,
  endedAt: null,
};
const participant = {
  ...person,
  joinedAt: 1764626001000,
  tracks: [{ trackId: 'p-1', kind: 'audio', source: 'microphone', muted: false }],
};
const opus = {
  kind: 'audio',
  mimeType: 'audio/opus',
  preferredPayloadType: 100,
  clockRate: 48000,
  channels: 2,
  parameters: {},
  rtcpFeedback: [
    { type: 'nack', parameter: '' },
    { type: 'transport-cc', parameter: '' },
  ],
};
const routerRtpCapabilities = {
  codecs: [
    opus,
    {
      kind: 'video',
      mimeType: 'video/VP8',
      preferredPayloadType: 101,
      clockRate: 90000,
      parameters: {},
      rtcpFeedback: [
        { type: 'nack', parameter: '' },
        { type: 'nack', parameter: 'pli' },
        { type: 'goog-remb', parameter: '' },
      ],
    },
    {
      kind: 'video',
      mimeType: 'video/rtx',
      preferredPayloadType: 102,
      clockRate: 90000,
      parameters: { apt: 101 },
      rtcpFeedback: [],
    },
  ],
  headerExtensions: [
    {
      kind: 'audio',
      uri: 'urn:ietf:params:rtp-hdrext:sdes:mid',
      preferredId: 1,
      preferredEncrypt: false,
      direction: 'sendrecv',
    },
  ],
};
const rtpParameters = {
  mid: '0',
  codecs: [
    { mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] },
  ],
  headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1, encrypt: false, parameters: {} }],
  encodings: [{ ssrc: 311042571, dtx: false }],
  rtcp: { cname: 'a8f3c2', reducedSize: true },
};
const iceParameters = { usernameFragment: 'z3k1m8', password: 'q7v0p2l9w4', iceLite: true };
const transport = {
  id: 'c5d0a8e6-7b1f-4f67-9a0d-3d7c8e2b1a90',
  iceParameters,
  iceCandidates: [
    {
      foundation: 'udpcandidate',
      priority: 1076302079,
      address: '127.0.0.1',
      ip: '127.0.0.1',
      protocol: 'udp',
      port: 40000,
      type: 'host',
    },
  ],
  dtlsParameters: {
    role: 'auto',
    fingerprints: [
      {
        algorithm: 'sha-256',
        value: 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89',
      },
    ],
  },
  // --- data channels: a transport created with the client's sctpCapabilities
  sctpParameters: { port: 5000, OS: 1024, MIS: 1024, maxMessageSize: 262144 },
};
const chatMessage = { id: 'm-1', seq: 1, from: person, text: 'BP 120/80', to: 'everyone', sentAt: 1764626002000 };
const opinion = { version: 1, author: { ...person, issuer: 'hospital-a' }, text: 'Agree.', writtenAt: 1764626003000 };
const summary = {
  room: { ...room, state: 'ended', endedAt: 1764626900000 },
  durationSec: 899,
  participants: [{ ...person, issuer: 'hospital-a', firstJoinedAt: 1764626001000, lastLeftAt: 1764626900000 }],
};
const record = {
  id: 'rec-1',
  name: 'ct-scan.pdf',
  type: 'application/pdf',
  size: 20480,
  visibility: 'clinicians',
  uploadedBy: person,
  uploadedAt: 1764626004000,
};
const view = { page: 1, zoom: 1, panX: 0, panY: 0, rotation: 0, windowCenter: null, windowWidth: null, version: 3 };
const mark = {
  id: 'mk-1',
  seq: 1,
  author: person,
  kind: 'arrow',
  page: 1,
  points: [
    { x: 0.1, y: 0.2 },
    { x: 0.3, y: 0.4 },
  ],
  color: '#ff0000',
  createdAt: 1764626005000,
};
const share = { record, presenter: 'dr-zhang', view, marks: [mark] };
const roomView = {
  room,
  participants: [participant],
  routerRtpCapabilities,
  chatHistory: [chatMessage],
  share,
  // --- vitals
  vitals: [{ identity: 'patient-1', samples: [{ type: 'heartRate', value: 72, unit: '/min', at: 1764626003000 }] }],
  // --- recording
  recording: {
    state: 'paused',
    missingConsent: ['patient-1'],
    requestedBy: 'dr-zhang',
    recordingId: 'rec-7f3a',
    version: 4,
  },
};

export const goodRequests: Record<Method, unknown> = {
  join: {
    protocolVersion: 1,
    token: 'eyJhbGciOiJIUzI1NiJ9.e30.sig',
    room: 'consult-1',
    resumeSessionId: 's-1',
    resumeFromSeq: 4,
  },
  setRtpCapabilities: { rtpCapabilities: routerRtpCapabilities },
  createTransport: { direction: 'send', sctpCapabilities: { numStreams: { OS: 1024, MIS: 1024 } } },
  connectTransport: {
    transportId: 't-1',
    dtlsParameters: { role: 'client', fingerprints: transport.dtlsParameters.fingerprints },
  },
  restartIce: { transportId: 't-1' },
  produce: { transportId: 't-1', kind: 'audio', source: 'microphone', rtpParameters, paused: false },
  closeProducer: { producerId: 'p-1' },
  setProducerPaused: { producerId: 'p-1', paused: true },
  resumeConsumer: { consumerId: 'c-1' },
  setConsumerVideoSize: { consumerId: 'c-1', width: 640, height: 360 },
  setConsumerPaused: { consumerId: 'c-1', paused: false },
  requestKeyFrame: { consumerId: 'c-1' },
  getStats: {},
  ping: {},
  leave: {},
  reportQuality: {
    rttMs: 420,
    jitterMs: 35,
    inboundLoss: 0.04,
    availableOutgoingBitrate: 88_000,
    sentFps: 7,
    bandwidthLimited: true,
  },
  refreshToken: { token: 'eyJhbGciOiJIUzI1NiJ9.e30.sig2' },
  getIceServers: {},
  admit: { identity: 'patient-1' },
  deny: { identity: 'patient-1', reason: 'Wrong room' },
  muteParticipant: { identity: 'patient-1', source: 'microphone', allowUnmute: true },
  removeParticipant: { identity: 'patient-1' },
  setLocked: { locked: true },
  endRoom: { reason: 'Done' },
  getSummary: {},
  sendChat: { text: 'Hello', to: 'clinicians' },
  setOpinion: { text: 'Agree with the plan.' },
  getOpinions: {},
  listRecords: {},
  getRecordUrl: { recordId: 'rec-1' },
  deleteRecord: { recordId: 'rec-1' },
  shareRecord: { recordId: 'rec-1' },
  stopShare: { recordId: 'rec-1' },
  setViewState: { recordId: 'rec-1', view: { page: 2, zoom: 1.5, rotation: 90 } },
  requestPresenter: { recordId: 'rec-1' },
  grantPresenter: { recordId: 'rec-1', identity: 'dr-li' },
  pointer: { recordId: 'rec-1', page: 1, x: 0.5, y: 0.5 },
  annotate: {
    recordId: 'rec-1',
    mark: { kind: 'text', page: 1, points: [{ x: 0.2, y: 0.2 }], text: 'lesion', color: '#0f0' },
  },
  undoAnnotation: { recordId: 'rec-1' },
  createPlainTransport: { direction: 'recv', srtp: true },
  connectPlainTransport: {
    transportId: 't-2',
    ip: '127.0.0.1',
    port: 40002,
    srtpParameters: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80', keyBase64: 'c2VjcmV0' },
  },
  // --- pre-call check
  startPreflight: { protocolVersion: 1, token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwYXRpZW50LXdhbmcifQ.c2ln' },
  preflightConnectTransport: {
    transportId: 't-1',
    dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD:EF' }] },
  },
  preflightProduce: { transportId: 't-1', kind: 'audio', rtpParameters, rtpCapabilities: routerRtpCapabilities },
  preflightResumeConsumer: { consumerId: 'c-9' },
  preflightStats: {},
  endPreflight: {},
  // --- data channels
  produceData: {
    transportId: 't-1',
    sctpStreamParameters: { streamId: 0, ordered: false, maxRetransmits: 0 },
    label: 'app.cursor',
    protocol: '',
  },
  closeDataProducer: { dataProducerId: 'dp-1' },
  subscribeData: {},
  // --- recording
  requestRecording: {},
  recordingConsent: { agree: true },
  stopRecording: {},
};

// --- recording
/** The recording after the doctor asked, the patient has not answered yet. */
export const recordingAwaiting = {
  state: 'awaiting-consent',
  missingConsent: ['patient-1'],
  requestedBy: 'dr-zhang',
  recordingId: 'rec-7f3a',
  version: 1,
};

// --- TURN
/** TURN servers as the server hands them out (REST credentials: `<expiry>:<pseudonym>`). */
export const iceServers = [
  {
    urls: [
      'turn:turn.example.org:3478?transport=udp',
      'turn:turn.example.org:3478?transport=tcp',
      'turns:turn.example.org:443?transport=tcp',
    ],
    username: '1764629600:hz_6bWvJ3kXq0fRZp1cT9yN2aA',
    credential: 'kZ3w0a7qvF2Jm1sXbQe9rT4yU8o=',
  },
];

/** A real `join` answer for an admitted clinician (the admitted branch of the union). */
export const joinAdmitted = {
  protocolVersion: 1,
  sessionId: 'a3c9e4f0-1b2d-4e5f-8a7b-6c5d4e3f2a1b',
  resumed: false,
  participant,
  permissions: ['publishAudio', 'publishVideo', 'subscribe', 'admit', 'chat'],
  tokenExpiresIn: 3599,
  iceServers,
  iceServersExpireIn: 3599,
  admission: 'admitted',
  ...roomView,
  waitingRoom: [{ identity: 'patient-1', name: 'Li Wei', role: 'patient', since: 1764626001500 }],
};
export const joinWaiting = {
  protocolVersion: 1,
  sessionId: 's-2',
  resumed: false,
  participant: { ...participant, identity: 'patient-1', role: 'patient', tracks: [] },
  permissions: ['publishAudio', 'chat'],
  tokenExpiresIn: 600,
  admission: 'waiting',
  room: { id: 'consult-1', kind: 'consult' },
};

export const goodResponses: Record<Method, unknown> = {
  join: joinAdmitted,
  setRtpCapabilities: {},
  createTransport: transport,
  connectTransport: {},
  restartIce: { iceParameters },
  produce: { trackId: 'p-1' },
  closeProducer: {},
  setProducerPaused: {},
  resumeConsumer: {},
  setConsumerVideoSize: { spatialLayer: 1 },
  setConsumerPaused: {},
  requestKeyFrame: {},
  getStats: { transports: [{ transportId: 't-1', direction: 'send', type: 'webrtc-transport', bytesReceived: 1024 }] },
  ping: {},
  leave: {},
  refreshToken: { tokenExpiresIn: 3600, iceServers, iceServersExpireIn: 3600 },
  getIceServers: { iceServers, iceServersExpireIn: 3500 },
  reportQuality: {},
  admit: {},
  deny: {},
  muteParticipant: {},
  removeParticipant: {},
  setLocked: { room: { ...room, locked: true } },
  endRoom: { summary },
  getSummary: { summary },
  sendChat: { message: chatMessage },
  setOpinion: { opinion },
  getOpinions: { opinions: [opinion] },
  listRecords: { records: [record] },
  getRecordUrl: { url: '/records/consult-1/rec-1?sig=abc', expiresAt: 1764626300000 },
  deleteRecord: {},
  shareRecord: { share },
  stopShare: {},
  setViewState: { view },
  requestPresenter: {},
  grantPresenter: {},
  pointer: {},
  annotate: { mark },
  undoAnnotation: { markId: null },
  createPlainTransport: { id: 't-2', ip: '127.0.0.1', port: 40002 },
  connectPlainTransport: {},
  // --- pre-call check
  startPreflight: {
    protocolVersion: 1,
    preflightId: '2b0c6a4e-7f0e-4a59-9d3c-5b1e7a9c0d11',
    routerRtpCapabilities,
    sendTransport: transport,
    recvTransport: { ...transport, id: 't-2' },
    maxDurationMs: 30000,
    maxBitrate: 1500000,
    iceServers: [
      {
        urls: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:443?transport=tcp'],
        username: '1764629600:patient-wang',
        credential: 'hV1m0wW7JvXo3cQe9mKq4y3S2tE=',
      },
    ],
  },
  preflightConnectTransport: {},
  preflightProduce: {
    producerId: 'p-9',
    consumer: { consumerId: 'c-9', producerId: 'p-9', kind: 'audio', rtpParameters },
  },
  preflightResumeConsumer: {},
  preflightStats: { transports: [{ type: 'webrtc-transport', transportId: 't-1', bytesReceived: 52000 }] },
  endPreflight: { durationMs: 8200 },
  // --- data channels
  produceData: { dataProducerId: 'dp-1', maxMessageBytes: 16384 },
  closeDataProducer: {},
  // --- recording
  requestRecording: { recording: recordingAwaiting },
  recordingConsent: { recording: { ...recordingAwaiting, state: 'recording', missingConsent: [], version: 2 } },
  stopRecording: { recording: { state: 'off', missingConsent: [], version: 3 }, recordingId: 'rec-7f3a' },
  subscribeData: {
    maxMessageBytes: 16384,
    channels: [
      {
        dataConsumerId: 'dc-1',
        dataProducerId: 'dp-9',
        sctpStreamParameters: { streamId: 1, ordered: true },
        label: 'huizhen.reliable',
        protocol: 'huizhen-envelope-1',
        reliable: true,
      },
      {
        dataConsumerId: 'dc-2',
        dataProducerId: 'dp-10',
        sctpStreamParameters: { streamId: 2, ordered: false, maxRetransmits: 0 },
        label: 'huizhen.unreliable',
        protocol: 'huizhen-envelope-1',
        reliable: false,
      },
    ],
  },
};

/** A real `consumerCreated`, as the server sends it when a track becomes available. */
export const consumerCreated = {
  consumerId: '7e1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  trackId: 'p-1',
  participantIdentity: 'dr-zhang',
  kind: 'audio',
  source: 'microphone',
  rtpParameters,
  producerPaused: false,
};

export const goodNotifications: Record<Notification, unknown> = {
  participantJoined: { participant },
  participantLeft: { identity: 'dr-zhang', reason: 'disconnected' },
  participantReconnecting: { identity: 'dr-zhang' },
  participantReconnected: { identity: 'dr-zhang' },
  waitingRoomChanged: { waiting: [{ identity: 'patient-1', name: 'Li Wei', role: 'patient', since: 1764626001500 }] },
  admitted: { ...roomView, iceServers, iceServersExpireIn: 3599 },
  roomUpdated: { room },
  mutedByHost: { trackId: 'p-1', source: 'microphone', by: person, allowUnmute: true },
  chat: { message: chatMessage },
  opinionUpdated: { opinion },
  recordAdded: { record },
  recordDeleted: { recordId: 'rec-1' },
  recordShared: { share },
  recordShareStopped: { recordId: 'rec-1' },
  viewStateChanged: { recordId: 'rec-1', view, by: 'dr-zhang' },
  presenterChanged: { recordId: 'rec-1', presenter: 'dr-li' },
  presenterRequested: { recordId: 'rec-1', from: person },
  pointer: { recordId: 'rec-1', identity: 'dr-zhang', page: 1, x: 0.4, y: 0.6 },
  annotationAdded: { recordId: 'rec-1', mark },
  annotationRemoved: { recordId: 'rec-1', markId: 'mk-1' },
  consumerCreated,
  consumerClosed: { consumerId: 'c-1', trackId: 'p-1', participantIdentity: 'dr-zhang' },
  trackMuted: { participantIdentity: 'dr-zhang', trackId: 'p-1' },
  trackUnmuted: { participantIdentity: 'dr-zhang', trackId: 'p-1' },
  consumerLayersChanged: { consumerId: 'c-1', spatialLayer: 2, temporalLayer: null },
  activeSpeakerChanged: { identity: null },
  connectionQualityChanged: {
    identity: 'patient-1',
    quality: 'poor',
    uplink: 'poor',
    downlink: 'good',
    rttMs: 480,
    loss: 0.06,
  },
  audioOnlyChanged: { identity: 'patient-1', audioOnly: true, reason: 'network', direction: 'uplink' },
  sessionClosed: { code: 'ROOM_ENDED', reason: 'The consult ended', summary },
  moveNode: { url: 'https://hz-b.example.org', reason: 'This server is going down for maintenance.' },
  // --- pre-call check
  preflightEnded: { reason: 'timeLimit', durationMs: 30000 },
  // --- data channels
  dataConsumerClosed: { dataConsumerId: 'dc-1' },
  dataRefused: { topic: 'vitals', code: 'PERMISSION_DENIED', reason: 'Your role may not publish on this topic.' },
  // --- vitals
  vitalsAlert: {
    identity: 'patient-1',
    type: 'spo2',
    state: 'raised',
    value: 87,
    threshold: 90,
    direction: 'below',
    message: 'SpO2 below 90 % for 10 s',
    at: 1764626004000,
  },
  // --- recording
  recordingStateChanged: recordingAwaiting,
};
