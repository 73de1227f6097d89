import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import type { RecordInfo } from '@huizhen/client-sdk';
import { useRoom, useRoomEvent } from '@huizhen/react';

/** The records of this consult that this participant may see, kept current. */
export function RecordsList(): ReactNode {
  const room = useRoom();
  const [records, setRecords] = useState<readonly RecordInfo[] | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  // Lists can overlap (a burst of recordAdded): only the newest request's answer is shown.
  const latest = useRef(0);
  const reload = useCallback(() => {
    if (!room) return;
    const request = ++latest.current;
    room.records.list().then(
      (list) => {
        if (request === latest.current) setRecords(list);
      },
      (e: unknown) => {
        if (request === latest.current) setError((e as Error).message);
      },
    );
  }, [room]);
  useEffect(reload, [reload]);
  useRoomEvent('recordAdded', reload);
  useRoomEvent('recordDeleted', reload);
  const canShare = room?.can('shareRecords') ?? false;

  const share = (file: File): void => {
    if (!room) return;
    setError(undefined);
    // The server detects the type from the content and refuses what it does not take (typed error codes).
    room.records.upload(file, { visibility: 'everyone' }).then(reload, (e: unknown) => setError((e as Error).message));
  };

  return (
    <div>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      {!records ? (
        <p>Loading…</p>
      ) : records.length === 0 ? (
        <p data-testid="records-empty">No records shared yet.</p>
      ) : (
        <ul className="records" data-testid="records">
          {records.map((r) => (
            <li key={r.id}>
              {r.name}{' '}
              <small>
                ({r.type}, from {r.uploadedBy.name})
              </small>
            </li>
          ))}
        </ul>
      )}
      {canShare ? (
        <label>
          Share a record (PDF, image, DICOM){' '}
          <input
            type="file"
            data-testid="record-file"
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) share(file);
              e.target.value = '';
            }}
          />
        </label>
      ) : null}
    </div>
  );
}
