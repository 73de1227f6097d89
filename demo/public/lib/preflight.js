/**
 * The pre-call check on the join form, for patients before they enter the
 * waiting room (like doxy.me's check-in): camera, microphone, the connection
 * to the clinic's server and a video round trip through it, each step's
 * result as it comes, then a verdict with advice in plain words, plus a
 * speaker test. Built on the SDK's `preflight()` and `playTestSound()`.
 */
import { playTestSound, preflight } from '/sdk/huizhen-client.js';
import { el } from './dom.js';

const STEPS = [
  ['camera', 'Camera'],
  ['microphone', 'Microphone'],
  ['signaling', 'Connection to the clinic'],
  ['media', 'Video through the clinic’s server'],
];

const VERDICT_TITLES = {
  excellent: 'Your connection is excellent',
  good: 'Your connection is good',
  poor: 'Your connection is poor',
  failed: 'The video visit will not work like this',
};

const STATUS_MARK = { running: '…', passed: '✓', warning: '!', failed: '✗', skipped: '–' };

/**
 * @param {HTMLElement} container  where the offer goes (on the join form)
 * @param {{ getToken: () => Promise<string>, shouldOffer: () => boolean }} options
 */
export function mountPreflight(container, { getToken, shouldOffer }) {
  const start = el('button', {
    type: 'button',
    class: 'small',
    'data-testid': 'preflight-button',
    text: 'Check my camera, microphone and connection',
  });
  const speaker = el('button', {
    type: 'button',
    class: 'small',
    'data-testid': 'preflight-speaker',
    text: 'Play a test sound',
  });
  const speakerResult = el('span', { class: 'hint', 'data-testid': 'preflight-speaker-result', 'aria-live': 'polite' });
  const heard = el('button', { type: 'button', class: 'small', text: 'I heard it', hidden: true });
  const notHeard = el('button', { type: 'button', class: 'small', text: 'I heard nothing', hidden: true });
  const list = el('ol', { class: 'preflight-steps', 'data-testid': 'preflight-steps', hidden: true });
  const rows = new Map(
    STEPS.map(([step, label]) => {
      const mark = el('span', { class: 'preflight-mark', 'aria-hidden': 'true', text: '–' });
      const message = el('span', { class: 'preflight-message', text: 'Waiting' });
      const row = el('li', { 'data-testid': `preflight-step-${step}`, 'data-status': 'pending' }, [
        mark,
        el('strong', { text: label }),
        message,
      ]);
      list.append(row);
      return [step, { row, mark, message }];
    }),
  );
  const progress = el('progress', { max: 1, value: 0, hidden: true, 'data-testid': 'preflight-progress' });
  const verdict = el('div', {
    class: 'preflight-verdict',
    'data-testid': 'preflight-verdict',
    role: 'status',
    hidden: true,
  });
  const panel = el('div', { class: 'preflight', 'data-testid': 'preflight' }, [
    el('p', {
      class: 'hint',
      text: 'Before you join, you can check that the doctor will see and hear you. It takes about 15 seconds.',
    }),
    el('div', { class: 'preflight-actions' }, [start, speaker]),
    el('div', { class: 'preflight-actions' }, [speakerResult, heard, notHeard]),
    progress,
    list,
    verdict,
  ]);
  container.replaceChildren(panel);

  const refresh = () => {
    container.hidden = !shouldOffer();
  };
  refresh();

  speaker.addEventListener('click', async () => {
    speaker.disabled = true;
    speakerResult.textContent = 'Playing a chime…';
    try {
      await playTestSound();
      speakerResult.textContent = 'Did you hear a chime?';
      heard.hidden = notHeard.hidden = false;
    } catch {
      speakerResult.textContent = 'This browser could not play a sound.';
    } finally {
      speaker.disabled = false;
    }
  });
  heard.addEventListener('click', () => {
    speakerResult.textContent = 'Your speakers work.';
    heard.hidden = notHeard.hidden = true;
  });
  notHeard.addEventListener('click', () => {
    speakerResult.textContent =
      'Turn up the volume, check that your speakers or headphones are connected and not muted, then play the sound again.';
    heard.hidden = notHeard.hidden = true;
  });

  start.addEventListener('click', async () => {
    start.disabled = true;
    start.textContent = 'Checking…';
    list.hidden = false;
    progress.hidden = false;
    progress.value = 0;
    verdict.hidden = true;
    for (const { row, mark, message } of rows.values()) {
      row.dataset.status = 'pending';
      mark.textContent = '–';
      message.textContent = 'Waiting';
    }
    try {
      // Fetching the token takes a moment; browsers still count it as part of the click (for the microphone level).
      const test = preflight(location.origin, await getToken(), { durationMs: 8000 });
      test.on('progress', (p) => {
        progress.value = p.fraction;
        const entry = rows.get(p.step);
        if (!entry) return;
        entry.row.dataset.status = p.status;
        entry.mark.textContent = STATUS_MARK[p.status] ?? '';
        entry.message.textContent = p.message;
      });
      showReport(verdict, await test.result);
    } catch (err) {
      verdict.hidden = false;
      verdict.dataset.verdict = 'failed';
      verdict.replaceChildren(
        el('strong', { text: 'The check could not run.' }),
        el('p', { text: err instanceof Error ? err.message : String(err) }),
      );
    } finally {
      progress.hidden = true;
      start.disabled = false;
      start.textContent = 'Check again';
    }
  });

  return { refresh };
}

/** The verdict, the advice, and (folded away) the numbers for the clinic's help desk. */
function showReport(node, report) {
  node.hidden = false;
  node.dataset.verdict = report.verdict;
  const m = report.media;
  const facts = [
    m.candidateType && `path: ${m.candidateType} over ${m.protocol ?? '?'}`,
    m.rttMs !== undefined && `round trip ${m.rttMs} ms`,
    m.jitterMs !== undefined && `jitter ${m.jitterMs} ms`,
    m.packetLossPercent !== undefined && `loss ${m.packetLossPercent} %`,
    m.bitrateKbps !== undefined && `video ${m.bitrateKbps} kbit/s`,
    m.availableBitrateKbps !== undefined && `path carries ~${m.availableBitrateKbps} kbit/s`,
    m.framesDecoded !== undefined && `${m.framesDecoded} frames back`,
    report.signaling.rttMs !== undefined && `server answers in ${report.signaling.rttMs} ms`,
  ].filter(Boolean);
  node.replaceChildren(
    el('strong', { 'data-testid': 'preflight-verdict-title', text: VERDICT_TITLES[report.verdict] ?? report.verdict }),
    el(
      'ul',
      { 'data-testid': 'preflight-advice' },
      report.advice.map((line) => el('li', { text: line })),
    ),
    el('details', {}, [
      el('summary', { text: 'Details for the clinic’s help desk' }),
      el('p', { 'data-testid': 'preflight-details', text: facts.join(' · ') || 'No measurements.' }),
    ]),
  );
}
