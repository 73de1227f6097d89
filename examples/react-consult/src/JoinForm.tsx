import { useState, type ReactNode } from 'react';
import type { ConsultRole, Visitor } from './token.js';

export function JoinForm({ onJoin }: { onJoin: (visitor: Visitor) => void }): ReactNode {
  const [name, setName] = useState('');
  const [room, setRoom] = useState('consult-1');
  const [role, setRole] = useState<ConsultRole>('patient');
  return (
    <form
      className="join"
      onSubmit={(event) => {
        event.preventDefault();
        const identity = `${role}-${Math.random().toString(36).slice(2, 8)}`;
        onJoin({ identity, name: name.trim() || identity, role, room: room.trim() });
      }}
    >
      <h1>Video consult</h1>
      <label>
        Your name <input value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" />
      </label>
      <label>
        Consult room <input value={room} onChange={(e) => setRoom(e.target.value)} required />
      </label>
      <label>
        I am the
        <select value={role} onChange={(e) => setRole(e.target.value as ConsultRole)}>
          <option value="patient">patient</option>
          <option value="doctor">doctor</option>
        </select>
      </label>
      <button type="submit">Join</button>
    </form>
  );
}
