/**
 * Getting a join token. A real deployment hands users a token issued by their
 * hospital; this demo asks the server's development endpoint, which exists only
 * when dev tokens are enabled.
 */

export class TokenUnavailableError extends Error {
  constructor(message) {
    super(message);
    this.name = 'TokenUnavailableError';
  }
}

/**
 * @param {{ identity: string, name: string, role: string, room: string }} who
 * @returns {Promise<string>}
 */
export async function fetchDevToken(who) {
  let response;
  try {
    response = await fetch('/api/dev/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(who),
    });
  } catch {
    throw new TokenUnavailableError('Could not reach the consult server. Check your network connection.');
  }
  if (response.status === 404) {
    throw new TokenUnavailableError(
      'This server does not hand out demo tokens (dev tokens are disabled). ' +
        'Open the consult link your hospital sent you (it carries its own token) instead.',
    );
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    // The server's error body carries { error: { code, message } }; show its sentence, never its markup.
    const detail =
      body && body.error && typeof body.error.message === 'string' ? body.error.message : response.statusText;
    throw new TokenUnavailableError(`The server refused to issue a token: ${detail} (HTTP ${response.status}).`);
  }
  if (!body || typeof body.token !== 'string') {
    throw new TokenUnavailableError('The server answered without a token.');
  }
  return body.token;
}
