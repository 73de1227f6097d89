/** `<ChatPanel>`: the room's chat, and a box to write in it. */
import { useState, type FormEvent, type ReactNode } from 'react';
import { MAX_CHAT_LENGTH } from '@huizhen/client-sdk';
import { reportFailure } from '../reportError.js';
import { useChat, type ChatAudience } from '../useChat.js';

/** Props of `<ChatPanel>`. */
export interface ChatPanelProps {
  /** Who messages sent from this panel are for (default everyone; `clinicians` needs a clinician). */
  to?: ChatAudience;
  /** The input's placeholder. Default "Write a message". */
  placeholder?: string;
  /** Sending failed (rate limited, not permitted, ...). Default: reported as an uncaught error. */
  onError?: (error: Error) => void;
  /** Class of the outer element (`huizhen-chat` is always set). */
  className?: string;
}

/**
 * The chat so far (sender and text, in server order) and a form that sends.
 * The form is disabled while this participant may not chat (not admitted, no
 * `chat` permission) and while a message is being sent; the text is kept if
 * sending fails.
 */
export function ChatPanel(props: ChatPanelProps): ReactNode {
  const { messages, canSend, send } = useChat();
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);

  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const body = text.trim();
    if (!body || sending) return;
    setSending(true);
    send(body, props.to ? { to: props.to } : undefined)
      .then(
        () => setText(''),
        (error: unknown) => reportFailure(error, props.onError),
      )
      .finally(() => setSending(false));
  };

  const className = ['huizhen-chat', props.className].filter(Boolean).join(' ');
  return (
    <div className={className}>
      <ol className="huizhen-chat-messages" aria-label="Chat messages">
        {messages.map((message) => (
          <li key={message.id} data-from={message.from.identity} data-to={message.to}>
            <span className="huizhen-chat-from">{message.from.name || message.from.identity}</span>{' '}
            <span className="huizhen-chat-text">{message.text}</span>
          </li>
        ))}
      </ol>
      <form onSubmit={submit}>
        <input
          type="text"
          aria-label="Message"
          value={text}
          maxLength={MAX_CHAT_LENGTH}
          placeholder={props.placeholder ?? 'Write a message'}
          disabled={!canSend}
          onChange={(event) => setText(event.target.value)}
        />
        <button type="submit" disabled={!canSend || sending || text.trim() === ''}>
          Send
        </button>
      </form>
    </div>
  );
}
