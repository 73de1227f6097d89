import { useEffect, useState, type ReactNode } from 'react';
import type { DisconnectReason } from '@huizhen/client-sdk';
import { HuizhenRoom } from '@huizhen/react';
import { Consult } from './Consult.js';
import { JoinForm } from './JoinForm.js';
import { tokenFor, visitorFromAddress, type Visitor } from './token.js';

type Phase =
  | { kind: 'form' }
  | { kind: 'joining'; visitor: Visitor }
  | { kind: 'in'; visitor: Visitor; token: string }
  | { kind: 'ended'; reason: string };

export function App(): ReactNode {
  const [phase, setPhase] = useState<Phase>(() => {
    const visitor = visitorFromAddress(window.location.search);
    return visitor ? { kind: 'joining', visitor } : { kind: 'form' };
  });

  const joining = phase.kind === 'joining' ? phase.visitor : undefined;
  useEffect(() => {
    if (!joining) return;
    let current = true;
    // tokenFor() asks once per visitor, so StrictMode's second effect gets the same token.
    tokenFor(joining).then(
      (token) => current && setPhase({ kind: 'in', visitor: joining, token }),
      (error: unknown) => current && setPhase({ kind: 'ended', reason: (error as Error).message }),
    );
    return () => {
      current = false;
    };
  }, [joining]);

  switch (phase.kind) {
    case 'form':
      return <JoinForm onJoin={(visitor) => setPhase({ kind: 'joining', visitor })} />;
    case 'joining':
      return <p className="status">Joining {phase.visitor.room}…</p>;
    case 'ended':
      return (
        <p className="status" data-testid="ended">
          The consult has ended for you: {phase.reason}
        </p>
      );
    case 'in':
      return (
        <HuizhenRoom
          serverUrl={window.location.origin}
          token={phase.token}
          onError={(error) => setPhase({ kind: 'ended', reason: error.message })}
          onDisconnected={(reason: DisconnectReason) => setPhase({ kind: 'ended', reason })}
        >
          <Consult role={phase.visitor.role} />
        </HuizhenRoom>
      );
  }
}
