/**
 * The patient's evaluation (在线评价) after the consult ended: stars for the
 * consult overall (required) and for sound and picture, how clearly things
 * were explained and the waiting time (each optional), a comment with a
 * character counter, then a thank-you. Sent with the SDK's
 * `room.submitEvaluation`, which checks the comment before sending; refusals
 * are shown in plain words.
 */
import { MAX_EVALUATION_COMMENT, commentProblem } from '/sdk/huizhen-client.js';
import { el } from './dom.js';
import { describeError } from './errors.js';

const DIMENSIONS = Object.freeze([
  { key: 'overall', label: 'The consult overall', required: true },
  { key: 'audioVideo', label: 'Sound and picture', required: false },
  { key: 'communication', label: 'How clearly the doctor explained things', required: false },
  { key: 'waitingTime', label: 'Waiting time', required: false },
]);

const STAR_WORDS = Object.freeze(['', 'Very poor', 'Poor', 'Okay', 'Good', 'Excellent']);

/**
 * @param {{ submitEvaluation(e: any): Promise<any> }} room  the ended SDK Room
 * @param {{ onClose(): void }} hooks
 * @returns {HTMLElement}
 */
export function renderEvaluationForm(room, { onClose }) {
  /** @type {Record<string, number>} */
  const ratings = {};
  const status = el('p', { class: 'form-error', role: 'alert', 'data-testid': 'evaluation-error', hidden: true });
  const groups = DIMENSIONS.map((d) => starGroup(d, (value) => (ratings[d.key] = value)));
  const comment = el('textarea', {
    id: 'evaluation-comment',
    class: 'evaluation-comment',
    rows: 4,
    maxLength: MAX_EVALUATION_COMMENT,
    placeholder: 'Anything you would like the clinic to know (optional).',
    'data-testid': 'evaluation-comment',
  });
  const counter = el('span', {
    class: 'hint evaluation-counter',
    'aria-live': 'polite',
    'data-testid': 'evaluation-counter',
    text: `0 / ${MAX_EVALUATION_COMMENT}`,
  });
  comment.addEventListener('input', () => {
    counter.textContent = `${comment.value.length} / ${MAX_EVALUATION_COMMENT}`;
  });
  const submit = el('button', { type: 'submit', class: 'primary', text: 'Send', 'data-testid': 'evaluation-submit' });
  const skip = el('button', { type: 'button', text: 'Not now', 'data-testid': 'evaluation-skip' });
  skip.addEventListener('click', onClose);

  const form = el('form', { class: 'evaluation-form', 'data-testid': 'evaluation-form', noValidate: true }, [
    el('p', { class: 'hint', text: 'Your rating helps the clinic improve. It is sent once and cannot be changed.' }),
    ...groups.map((g) => g.node),
    el('label', { class: 'evaluation-comment-label', htmlFor: 'evaluation-comment', text: 'Comment' }),
    comment,
    counter,
    status,
    el('div', { class: 'evaluation-actions' }, [submit, skip]),
  ]);
  const box = el('div', { class: 'evaluation' }, [form]);

  const showError = (text) => {
    status.textContent = text ?? '';
    status.hidden = !text;
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showError(null);
    if (!ratings.overall) {
      showError('Please choose how many stars you give the consult overall.');
      groups[0].focus();
      return;
    }
    const text = comment.value.trim();
    const problem = text ? commentProblem(text) : null;
    if (problem) {
      showError(`The comment cannot be sent: it ${problem}.`);
      comment.focus();
      return;
    }
    submit.disabled = true;
    try {
      await room.submitEvaluation({ ...ratings, ...(text ? { comment: text } : {}) });
      box.replaceChildren(thanks(onClose));
    } catch (err) {
      const code = err && typeof err === 'object' ? /** @type {{ code?: unknown }} */ (err).code : undefined;
      if (code === 'ALREADY_EVALUATED') {
        box.replaceChildren(thanks(onClose, 'You have already rated this consult. Thank you!'));
        return;
      }
      showError(describeError(err, 'Your rating was not sent'));
      submit.disabled = false;
    }
  });
  return box;
}

/** One dimension: five star buttons acting as a radio group. */
function starGroup({ key, label, required }, onChange) {
  let value = 0;
  const caption = el('span', { class: 'hint star-caption', 'data-testid': `evaluation-${key}-caption` });
  const stars = [1, 2, 3, 4, 5].map((n) =>
    el('button', {
      type: 'button',
      class: 'star',
      role: 'radio',
      'aria-checked': 'false',
      'aria-label': `${n} star${n > 1 ? 's' : ''}: ${STAR_WORDS[n]}`,
      'data-testid': `evaluation-${key}-${n}`,
      text: '★',
    }),
  );
  const paint = () => {
    stars.forEach((s, i) => {
      s.classList.toggle('on', i < value);
      s.setAttribute('aria-checked', String(i + 1 === value));
      s.tabIndex = i + 1 === value || (value === 0 && i === 0) ? 0 : -1;
    });
    caption.textContent = value ? STAR_WORDS[value] : required ? 'required' : 'optional';
  };
  stars.forEach((s, i) => {
    s.addEventListener('click', () => {
      value = i + 1;
      onChange(value);
      paint();
    });
    // Arrow keys move along the stars, as in any radio group.
    s.addEventListener('keydown', (event) => {
      const step =
        event.key === 'ArrowRight' || event.key === 'ArrowUp'
          ? 1
          : event.key === 'ArrowLeft' || event.key === 'ArrowDown'
            ? -1
            : 0;
      if (!step) return;
      event.preventDefault();
      const next = Math.min(5, Math.max(1, (value || 1) + (value ? step : 0)));
      stars[next - 1].click();
      stars[next - 1].focus();
    });
  });
  paint();
  const labelId = `evaluation-${key}-label`;
  const node = el('div', { class: 'evaluation-dimension' }, [
    el('span', { id: labelId, class: 'evaluation-dimension-label', text: label }),
    el(
      'div',
      { class: 'stars', role: 'radiogroup', 'aria-labelledby': labelId, 'aria-required': String(required) },
      stars,
    ),
    caption,
  ]);
  return { node, focus: () => stars[0].focus() };
}

function thanks(onClose, text = 'Thank you for rating your consult.') {
  const back = el('button', {
    type: 'button',
    class: 'primary',
    text: 'Back to the start',
    'data-testid': 'evaluation-close',
  });
  back.addEventListener('click', onClose);
  queueMicrotask(() => back.focus());
  return el('div', { class: 'evaluation-thanks', 'data-testid': 'evaluation-thanks' }, [el('p', { text }), back]);
}
