"""The Socket.IO side: the gate, the handshake, the event flow, refresh, sessions."""
