package sio

import (
	"context"
	"encoding/json"
	"fmt"
)

// BroadcastRooms sends event to every socket in any of rooms, once per socket, on every node,
// except the socket exceptID (if not empty). The payload is encoded once for all of them, and
// on each node its frames are built once and written to every socket.
func (s *Server) BroadcastRooms(ctx context.Context, rooms []string, exceptID, event string, payload any) error {
	e, err := newEnvelope(rooms, exceptID, event, payload)
	if err != nil {
		return err
	}
	return s.fanOut(ctx, e)
}

// newEnvelope encodes a broadcast: the payload as JSON, its binary values as attachments.
func newEnvelope(rooms []string, exceptID, event string, payload any) (envelope, error) {
	v := Normalize(payload)
	var att [][]byte
	if hasBinary(v) {
		v = deconstruct(v, &att)
	}
	data, err := marshal(v)
	if err != nil {
		return envelope{}, fmt.Errorf("encoding %s: %w", event, err)
	}
	return envelope{Rooms: rooms, Except: exceptID, Event: event, Data: data, Bin: att}, nil
}

// LeaveRooms makes the sockets in any of rooms leave the room leave, on every node: a member
// removed from a conversation stops receiving (and typing in) it on every open tab.
func (s *Server) LeaveRooms(ctx context.Context, rooms []string, leave string) error {
	return s.fanOut(ctx, envelope{Rooms: rooms, Leave: leave})
}

// fanOut applies e to this node's sockets at once and publishes it for the others. A failed
// publish is also reported to OnAdapterError.
func (s *Server) fanOut(ctx context.Context, e envelope) error {
	s.deliverLocal(e)
	if s.fan == nil {
		return nil
	}
	if err := s.fan.publish(ctx, e); err != nil {
		s.reportErr(err)
		return err
	}
	return nil
}

// deliverLocal hands a fan-out broadcast (or room leave) to this node's sockets: the packet's
// frames are built once and the same frames are queued to every socket.
func (s *Server) deliverLocal(e envelope) {
	if len(e.Rooms) == 0 {
		return
	}
	if e.Leave != "" {
		s.roomsMu.Lock()
		for _, c := range s.membersLocked(e.Rooms, "") {
			c.leaveLocked(e.Leave)
		}
		s.roomsMu.Unlock()
		return
	}
	name, _ := json.Marshal(e.Event)
	data := make([]byte, 0, len(name)+len(e.Data)+3)
	data = append(append(data, '['), name...)
	if len(e.Data) > 0 {
		data = append(append(data, ','), e.Data...)
	}
	data = append(data, ']')
	frames := map[string][]*frame{} // by namespace: the hub's sockets are all on "/"
	s.roomsMu.RLock()
	members := s.membersLocked(e.Rooms, e.Except)
	s.roomsMu.RUnlock()
	for _, c := range members {
		f, ok := frames[c.nsp]
		if !ok {
			f = packetFrames(sioEvent, c.nsp, noAck, data, e.Bin)
			for _, x := range f {
				x.shared = true
			}
			frames[c.nsp] = f
		}
		c.cl.sess.send(f...)
	}
}

// membersLocked lists the sockets in any of rooms, each once, without the socket except.
// s.roomsMu is held.
func (s *Server) membersLocked(rooms []string, except string) []*Conn {
	if len(rooms) == 1 {
		m := s.rooms[rooms[0]]
		if m == nil {
			return nil
		}
		out := make([]*Conn, 0, m.len())
		m.each(func(c *Conn) {
			if c.id != except {
				out = append(out, c)
			}
		})
		return out
	}
	seen := map[*Conn]struct{}{}
	var out []*Conn
	for _, r := range rooms {
		m := s.rooms[r]
		if m == nil {
			continue
		}
		m.each(func(c *Conn) {
			if _, ok := seen[c]; ok || c.id == except {
				return
			}
			seen[c] = struct{}{}
			out = append(out, c)
		})
	}
	return out
}
