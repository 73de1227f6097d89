/**
 * The HTTP API as an OpenAPI 3.1 document, served at `/api/openapi.json`.
 * Bodies come from the protocol's zod schemas (`protocol/src/http.ts`,
 * `evaluation.ts`), converted to JSON Schema 2020-12 (OpenAPI 3.1's own
 * dialect), so the document describes exactly what the server checks.
 */
import {
  bookRoomRequest,
  bookRoomResponse,
  devTokenRequest,
  devTokenResponse,
  evaluationAggregateResponse,
  evaluationInput,
  evaluationList,
  evaluationSubmitted,
  healthResponse,
  httpErrorBody,
  opinionsResponse,
  recordUploadedResponse,
  recordingsResponse,
  summaryResponse,
} from '@huizhen/protocol';
import * as z from 'zod/mini';

type Json = Record<string, unknown>;
type Schema = z.ZodMiniType;

/** JSON Schema of a request (what may be sent) or a response (what comes back). */
function jsonSchema(schema: Schema, io: 'input' | 'output'): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  return rest;
}

const json = (schema: Schema, io: 'input' | 'output') => ({
  'application/json': { schema: jsonSchema(schema, io) },
});
const error = (description: string) => ({ description, content: json(httpErrorBody, 'output') });
const pathParam = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
});
const ROOM = pathParam('id', 'The room (consult) id.');
const BEARER = [{ bearer: [] }];
const REFUSALS = {
  '400': error('Malformed request (INVALID_REQUEST, MALFORMED_MESSAGE).'),
  '401': error('Missing, invalid or expired token (TOKEN_*).'),
  '403': error('Not allowed (PERMISSION_DENIED, TOKEN_ROOM_MISMATCH, ORIGIN_NOT_ALLOWED).'),
  '404': error('No such room or thing (ROOM_NOT_FOUND, NOT_FOUND).'),
};

export interface OpenApiOptions {
  version: string;
  /** Whether this server mints development tokens (the endpoint exists only then). */
  devTokens: boolean;
}

export function openApiDocument(options: OpenApiOptions): Json {
  const paths: Json = {
    '/healthz': {
      get: {
        summary: "The node's health",
        responses: {
          '200': { description: 'Up', content: json(healthResponse, 'output') },
          '503': { description: 'No live media worker', content: json(healthResponse, 'output') },
        },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics (text exposition format)',
        responses: { '200': { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    '/api/rooms': {
      post: {
        summary: 'Book a room ahead of the first join (service token with scope rooms:write)',
        security: BEARER,
        requestBody: { required: true, content: json(bookRoomRequest, 'input') },
        responses: {
          '201': { description: 'Booked (or already booked the same way)', content: json(bookRoomResponse, 'output') },
          '409': error('The consult has ended, or the room exists as another kind (ROOM_ENDED, INVALID_STATE).'),
          '413': error('Body over 4 KiB (MESSAGE_TOO_LARGE).'),
          ...REFUSALS,
        },
      },
    },
    '/api/rooms/{id}/summary': {
      get: {
        summary: "The consult's summary (its clinicians, or a service token with rooms:read)",
        security: BEARER,
        parameters: [ROOM],
        responses: { '200': { description: 'Summary', content: json(summaryResponse, 'output') }, ...REFUSALS },
      },
    },
    '/api/rooms/{id}/opinions': {
      get: {
        summary: 'The written opinions of the consult (its clinicians, or rooms:read)',
        security: BEARER,
        parameters: [ROOM],
        responses: { '200': { description: 'Opinions', content: json(opinionsResponse, 'output') }, ...REFUSALS },
      },
    },
    '/api/rooms/{id}/records': {
      post: {
        summary: 'Upload a record into the consult (a participant in the room with shareRecords)',
        security: BEARER,
        parameters: [
          ROOM,
          { name: 'name', in: 'query', schema: { type: 'string', maxLength: 200 } },
          { name: 'visibility', in: 'query', schema: { enum: ['everyone', 'clinicians'] } },
        ],
        requestBody: {
          required: true,
          content: Object.fromEntries(
            ['application/pdf', 'image/png', 'image/jpeg', 'application/dicom'].map((t) => [
              t,
              { schema: { type: 'string', contentMediaType: t } },
            ]),
          ),
        },
        responses: {
          '201': { description: 'Stored, encrypted', content: json(recordUploadedResponse, 'output') },
          '413': error('Over records.maxBytes (MESSAGE_TOO_LARGE).'),
          '415': error('Not a PDF, PNG, JPEG or DICOM file (UNSUPPORTED_MEDIA_TYPE).'),
          ...REFUSALS,
        },
      },
    },
    '/api/rooms/{id}/records/{record}/content': {
      get: {
        summary: "A record's content by its signed URL (the URL and the caller's token, both)",
        security: BEARER,
        parameters: [ROOM, pathParam('record', 'The record id.')],
        responses: {
          '200': { description: 'The file', content: { 'application/octet-stream': { schema: { type: 'string' } } } },
          ...REFUSALS,
        },
      },
    },
    '/api/rooms/{id}/vitals': {
      get: {
        summary: "The consult's vitals as a FHIR R4 Bundle of Observations (its clinicians, or vitals:read)",
        security: BEARER,
        parameters: [ROOM],
        responses: {
          '200': {
            description: 'FHIR R4 Bundle (type collection)',
            content: { 'application/fhir+json': { schema: { type: 'object' } } },
          },
          ...REFUSALS,
        },
      },
    },
    '/api/rooms/{id}/recordings': {
      get: {
        summary: "The consult's recordings (its clinicians who may view records, or recordings:read)",
        security: BEARER,
        parameters: [ROOM],
        responses: { '200': { description: 'Recordings', content: json(recordingsResponse, 'output') }, ...REFUSALS },
      },
    },
    '/api/rooms/{id}/recordings/{recording}/content': {
      get: {
        summary: "A composed recording by its signed URL (the URL and the same caller's token, both)",
        security: BEARER,
        parameters: [ROOM, pathParam('recording', 'The recording id.')],
        responses: {
          '200': {
            description: 'WebM (VP8 grid, Opus mix)',
            content: { 'video/webm': { schema: { type: 'string' } } },
          },
          ...REFUSALS,
        },
      },
    },
    '/api/rooms/{id}/evaluation': {
      post: {
        summary: "A patient's or family member's evaluation of the ended consult (their own token for that room)",
        security: BEARER,
        parameters: [ROOM],
        requestBody: { required: true, content: json(evaluationInput, 'input') },
        responses: {
          '201': { description: 'Stored', content: json(evaluationSubmitted, 'output') },
          '409': error('Already evaluated, window closed, or the consult has not ended.'),
          ...REFUSALS,
        },
      },
    },
    '/api/rooms/{id}/evaluations': {
      get: {
        summary: "The consult's evaluations (its clinicians, or rooms:read)",
        security: BEARER,
        parameters: [ROOM],
        responses: { '200': { description: 'Evaluations', content: json(evaluationList, 'output') }, ...REFUSALS },
      },
    },
    '/api/evaluations': {
      get: {
        summary: "A doctor's evaluation figures (the doctor's own token, or rooms:read)",
        security: BEARER,
        parameters: [
          { name: 'host', in: 'query', required: true, schema: { type: 'string', maxLength: 128 } },
          { name: 'issuer', in: 'query', schema: { type: 'string', maxLength: 256 } },
        ],
        responses: {
          '200': { description: 'Aggregate', content: json(evaluationAggregateResponse, 'output') },
          ...REFUSALS,
        },
      },
    },
  };
  if (options.devTokens) {
    paths['/api/dev/token'] = {
      post: {
        summary: 'Mint a development access token (development servers only; devTokens.enabled)',
        requestBody: { required: true, content: json(devTokenRequest, 'input') },
        responses: { '200': { description: 'Token', content: json(devTokenResponse, 'output') }, ...REFUSALS },
      },
    };
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Huizhen HTTP API',
      version: options.version,
      description:
        'Booking, consult records, shared records, vitals and evaluations. Signaling is a WebSocket at /ws ' +
        '(protocol v1, @huizhen/protocol). Every refusal carries { error: { code, message } } with a stable code.',
      license: { name: 'See the LICENSE file of the Huizhen repository' },
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    paths,
  };
}
