/** The consult summary (who, when, how long), as the server reports it when a host ends the consult. */
import { el } from './dom.js';
import { roleLabel } from './roles.js';
import { formatClock, formatDateTime, formatDuration } from './time.js';

const KIND_LABELS = Object.freeze({ consult: 'Consult', clinic: 'Collaborative clinic', rounds: 'Grand rounds' });

/** @param {any} summary  ConsultSummary from room.end() */
export function renderSummary(summary) {
  const room = summary.room;
  const facts = [
    ['Room', room.id],
    ['Type', KIND_LABELS[room.kind] ?? room.kind],
    ['Started', room.startedAt ? formatDateTime(room.startedAt) : 'not started'],
    ['Ended', room.endedAt ? formatDateTime(room.endedAt) : '—'],
    ['Duration', summary.durationSec === null ? '—' : formatDuration(summary.durationSec)],
  ];
  const people = [...summary.participants].sort((a, b) => a.firstJoinedAt - b.firstJoinedAt);
  return el('div', { class: 'summary' }, [
    el(
      'dl',
      { class: 'summary-facts', 'data-testid': 'summary-facts' },
      facts.flatMap(([term, value]) => [
        el('dt', { text: term }),
        el('dd', { 'data-testid': `summary-${term.toLowerCase()}`, text: value }),
      ]),
    ),
    el('h2', { text: `Who took part (${people.length})` }),
    el('table', { class: 'summary-people', 'data-testid': 'summary-people' }, [
      el('thead', {}, [
        el(
          'tr',
          {},
          ['Name', 'Role', 'Signed in by', 'Joined', 'Left'].map((h) => el('th', { scope: 'col', text: h })),
        ),
      ]),
      el(
        'tbody',
        {},
        people.map((p) =>
          el('tr', { 'data-testid': 'summary-person', 'data-identity': p.identity }, [
            el('td', { text: p.name }),
            el('td', { text: roleLabel(p.role) }),
            el('td', { class: 'issuer', text: p.issuer }),
            el('td', { text: formatClock(p.firstJoinedAt) }),
            el('td', { text: p.lastLeftAt ? formatClock(p.lastLeftAt) : 'at the end' }),
          ]),
        ),
      ),
    ]),
  ]);
}
