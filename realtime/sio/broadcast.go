package sio

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/zishang520/socket.io/servers/socket/v3"
)

// BroadcastRooms sends event to every socket in any of rooms, once per socket, on every node,
// except the socket exceptID (if not empty). The payload is JSON-encoded once for all of them; it
// must not carry binary values (they would arrive as base64 strings).
func (s *Server) BroadcastRooms(ctx context.Context, rooms []string, exceptID, event string, payload any) error {
	data, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", event, err)
	}
	return s.fanOut(ctx, envelope{Rooms: rooms, Except: exceptID, Event: event, Data: data})
}

// LeaveRooms makes the sockets in any of rooms leave the room leave, on every node: a member
// removed from a conversation stops receiving (and typing in) it on every open tab.
func (s *Server) LeaveRooms(ctx context.Context, rooms []string, leave string) error {
	return s.fanOut(ctx, envelope{Rooms: rooms, Leave: leave})
}

// fanOut applies e to this node's sockets at once and publishes it for the others. A failed
// publish is also reported to OnAdapterError, as the adapter's are.
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

// deliverLocal hands a fan-out broadcast (or room leave) to this node's sockets.
func (s *Server) deliverLocal(e envelope) {
	if len(e.Rooms) == 0 {
		return
	}
	rooms := make([]socket.Room, len(e.Rooms))
	for i, r := range e.Rooms {
		rooms[i] = socket.Room(r)
	}
	if e.Leave != "" {
		s.nsp.Local().In(rooms...).SocketsLeave(socket.Room(e.Leave))
		return
	}
	op := s.nsp.Local().To(rooms...)
	if e.Except != "" {
		op = op.Except(socket.Room(e.Except))
	}
	// A reserved event name is the only error, and fan-out events are the hub's own.
	_ = op.Emit(e.Event, e.Data)
}
