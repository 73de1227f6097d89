/** `<WaitingRoomList>`: the consult's lobby with Admit and Deny buttons. */
import { useState, type ReactNode } from 'react';
import { reportFailure } from '../reportError.js';
import { useWaitingRoom } from '../useWaitingRoom.js';

/** Props of `<WaitingRoomList>`. */
export interface WaitingRoomListProps {
  /** Shown when nobody waits. Default "Nobody is waiting". */
  emptyText?: ReactNode;
  /** Told to whoever is denied (their session ends with it). */
  denyReason?: string;
  /** Admitting or denying failed (e.g. they had just left). Default: reported as an uncaught error. */
  onError?: (error: Error) => void;
  /** Class of the outer element (`huizhen-waiting-room` is always set). */
  className?: string;
}

/**
 * Lists who waits in the lobby, oldest first, each with Admit and Deny. Renders
 * nothing for participants who may not admit. Each row's buttons are disabled
 * while its request is under way.
 */
export function WaitingRoomList(props: WaitingRoomListProps): ReactNode {
  const { waiting, canAdmit, admit, deny } = useWaitingRoom();
  const [busy, setBusy] = useState<ReadonlySet<string>>(new Set());
  if (!canAdmit) return null;

  const act = (identity: string, action: () => Promise<void>): void => {
    setBusy((set) => new Set(set).add(identity));
    action()
      .then(
        () => undefined,
        (error: unknown) => reportFailure(error, props.onError),
      )
      .finally(() =>
        setBusy((set) => {
          const next = new Set(set);
          next.delete(identity);
          return next;
        }),
      );
  };

  const className = ['huizhen-waiting-room', props.className].filter(Boolean).join(' ');
  if (waiting.length === 0) {
    return <div className={className}>{props.emptyText ?? 'Nobody is waiting'}</div>;
  }
  return (
    <ul className={className} aria-label="Waiting room">
      {waiting.map((entry) => (
        <li key={entry.identity} data-identity={entry.identity}>
          <span className="huizhen-waiting-name">{entry.name || entry.identity}</span>{' '}
          <span className="huizhen-waiting-role">{entry.role}</span>{' '}
          <button
            type="button"
            disabled={busy.has(entry.identity)}
            onClick={() => act(entry.identity, () => admit(entry.identity))}
          >
            Admit
          </button>{' '}
          <button
            type="button"
            disabled={busy.has(entry.identity)}
            onClick={() => act(entry.identity, () => deny(entry.identity, props.denyReason))}
          >
            Deny
          </button>
        </li>
      ))}
    </ul>
  );
}
