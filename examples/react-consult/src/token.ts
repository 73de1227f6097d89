/**
 * Where the join token comes from. In a hospital's app its own backend signs
 * the token (a trusted issuer in the server's `auth.issuers`) for the person
 * who is logged in; this example asks a Huizhen server in development mode,
 * whose `POST /api/dev/token` exists only while `devTokens.enabled` is on.
 */
export type ConsultRole = 'doctor' | 'patient';

export interface Visitor {
  identity: string;
  name: string;
  role: ConsultRole;
  room: string;
}

const tokens = new WeakMap<Visitor, Promise<string>>();

/** One token request per visitor, however often it is asked for. */
export function tokenFor(visitor: Visitor): Promise<string> {
  let token = tokens.get(visitor);
  if (!token) {
    token = fetchDevToken(visitor);
    tokens.set(visitor, token);
  }
  return token;
}

async function fetchDevToken(visitor: Visitor): Promise<string> {
  const response = await fetch('/api/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(visitor),
  });
  const body = (await response.json().catch(() => ({}))) as { token?: string; error?: { message?: string } };
  if (!response.ok || !body.token) throw new Error(body.error?.message ?? `token request failed (${response.status})`);
  return body.token;
}

/** The visitor named by the address (`?role=doctor&room=…&name=…`), if it names one. */
export function visitorFromAddress(search: string): Visitor | undefined {
  const params = new URLSearchParams(search);
  const role = params.get('role');
  const room = params.get('room');
  if ((role !== 'doctor' && role !== 'patient') || !room) return undefined;
  const name = params.get('name') ?? (role === 'doctor' ? 'Doctor' : 'Patient');
  const identity = params.get('identity') ?? `${role}-${Math.random().toString(36).slice(2, 8)}`;
  return { identity, name, role, room };
}
