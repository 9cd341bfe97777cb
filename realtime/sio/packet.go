package sio

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// Socket.IO v5 packets (https://github.com/socketio/socket.io-protocol):
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
// carried in Engine.IO message packets; a binary packet's attachments follow it as binary
// messages, referenced from the JSON by {"_placeholder":true,"num":N}.

// Socket.IO packet types.
const (
	sioConnect      = '0'
	sioDisconnect   = '1'
	sioEvent        = '2'
	sioAck          = '3'
	sioConnectError = '4'
	sioBinaryEvent  = '5'
	sioBinaryAck    = '6'
)

// maxAttachments bounds a binary packet's attachments: each is held until the packet is whole.
const maxAttachments = 10

// noAck is the ack id of a packet that asks for none.
const noAck = -1

// packet is a decoded client packet.
type packet struct {
	typ         byte
	attachments int
	nsp         string
	id          int64  // noAck when absent
	payload     []byte // raw JSON, nil when absent
	// unusable is why a well-formed event cannot be handed to the hub (guard.go): it is answered
	// with an error ack, or dropped without one. badID marks an ack id too long to answer.
	unusable string
	badID    bool
}

var errPacket = errors.New("invalid Socket.IO packet")

// decodePacket parses a text packet's header and checks its payload's shape; it does not decode
// the payload's values (dispatch does, once the attachments are in).
func decodePacket(p []byte) (packet, error) {
	pk := packet{nsp: "/", id: noAck}
	if len(p) == 0 || p[0] < sioConnect || p[0] > sioBinaryAck {
		return pk, errPacket
	}
	pk.typ = p[0]
	i := 1
	if pk.typ == sioBinaryEvent || pk.typ == sioBinaryAck {
		j := skipDigits(p, i)
		if j == i || j >= len(p) || p[j] != '-' || j-i > 3 {
			return pk, errPacket
		}
		n, _ := strconv.Atoi(string(p[i:j]))
		if n > maxAttachments {
			return pk, errPacket
		}
		pk.attachments = n
		i = j + 1
	}
	if i < len(p) && p[i] == '/' {
		j := bytes.IndexByte(p[i:], ',')
		if j < 0 {
			pk.nsp = string(p[i:])
			i = len(p)
		} else {
			pk.nsp = string(p[i : i+j])
			i += j + 1
		}
	}
	if j := skipDigits(p, i); j > i {
		if j-i > maxAckIDDigits {
			pk.badID = true
		} else {
			id, err := strconv.ParseInt(string(p[i:j]), 10, 64)
			if err != nil {
				pk.badID = true
			} else {
				pk.id = id
			}
		}
		i = j
	}
	if i < len(p) {
		pk.payload = p[i:]
	}
	switch pk.typ {
	case sioConnect:
		if pk.id != noAck || pk.badID || (pk.payload != nil && !isJSONObject(pk.payload)) {
			return pk, errPacket
		}
	case sioDisconnect:
		if pk.payload != nil || pk.id != noAck {
			return pk, errPacket
		}
	case sioEvent, sioBinaryEvent, sioAck, sioBinaryAck:
		event := pk.typ == sioEvent || pk.typ == sioBinaryEvent
		// An ACK without an id is well formed (the reference decodes it and finds nothing to
		// answer); the server asks for no acks, so every ACK is ignored anyway.
		if pk.payload == nil {
			return pk, errPacket
		}
		if pk.badID || suspicious(pk.payload) {
			complete, reason := inspect(pk.payload, event)
			if !complete {
				return pk, errPacket
			}
			if reason == "" && pk.badID {
				reason = reasonAckID
			}
			pk.unusable = reason
			if pk.unusable != "" {
				return pk, nil
			}
		}
		if !validArgs(pk.payload, event) {
			return pk, errPacket
		}
	default: // CONNECT_ERROR comes from servers only
		return pk, errPacket
	}
	return pk, nil
}

func isJSONObject(p []byte) bool {
	p = bytes.TrimSpace(p)
	return len(p) > 0 && p[0] == '{' && json.Valid(p)
}

// validArgs checks that an event's payload is an array whose first element names it (a string
// that is not reserved, or a number), or that an ack's is an array.
func validArgs(p []byte, event bool) bool {
	if !json.Valid(p) {
		return false
	}
	t := bytes.TrimSpace(p)
	if len(t) == 0 || t[0] != '[' {
		return false
	}
	if !event {
		return true
	}
	var head []json.RawMessage
	if json.Unmarshal(t, &head) != nil || len(head) == 0 {
		return false
	}
	var name any
	if json.Unmarshal(head[0], &name) != nil {
		return false
	}
	switch n := name.(type) {
	case string:
		return !reservedEvents[n]
	case float64:
		return true
	}
	return false
}

// eventArgs decodes an event's (or ack's) payload into its name and arguments, putting the
// attachments in place of their placeholders.
func eventArgs(p []byte, event bool, attachments [][]byte) (string, []any, error) {
	var vals []any
	if err := json.Unmarshal(p, &vals); err != nil {
		return "", nil, err
	}
	name := ""
	if event {
		switch n := vals[0].(type) {
		case string:
			name = n
		case float64:
			name = strconv.FormatFloat(n, 'f', -1, 64)
		}
		vals = vals[1:]
	}
	if len(attachments) > 0 || bytes.Contains(p, []byte(`"_placeholder"`)) {
		for i := range vals {
			v, err := reconstruct(vals[i], attachments)
			if err != nil {
				return "", nil, err
			}
			vals[i] = v
		}
	}
	return name, vals, nil
}

func reconstruct(v any, att [][]byte) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if ph, _ := x["_placeholder"].(bool); ph && len(x) == 2 {
			n, ok := x["num"].(float64)
			if !ok || n < 0 || int(n) >= len(att) || float64(int(n)) != n {
				return nil, errPacket
			}
			return att[int(n)], nil
		}
		for k, e := range x {
			r, err := reconstruct(e, att)
			if err != nil {
				return nil, err
			}
			x[k] = r
		}
	case []any:
		for i, e := range x {
			r, err := reconstruct(e, att)
			if err != nil {
				return nil, err
			}
			x[i] = r
		}
	}
	return v, nil
}

// deconstruct replaces the []byte values of v by placeholders, in place for maps and slices, and
// returns the attachments in order.
func deconstruct(v any, att *[][]byte) any {
	switch x := v.(type) {
	case []byte:
		*att = append(*att, x)
		return map[string]any{"_placeholder": true, "num": len(*att) - 1}
	case map[string]any:
		for k, e := range x {
			x[k] = deconstruct(e, att)
		}
	case []any:
		for i, e := range x {
			x[i] = deconstruct(e, att)
		}
	}
	return v
}

// hasBinary reports whether v holds a []byte (v is made of plain values, see Normalize).
func hasBinary(v any) bool {
	switch x := v.(type) {
	case []byte:
		return true
	case map[string]any:
		for _, e := range x {
			if hasBinary(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasBinary(e) {
				return true
			}
		}
	}
	return false
}

// marshal encodes v as JSON the way JSON.stringify does (no HTML escaping).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// encodeArgs encodes the values of an event (with its name first) or of an ack, the binary ones
// as attachments.
func encodeArgs(vals []any) (data []byte, att [][]byte, err error) {
	for i, v := range vals {
		v = forSocket(v)
		if hasBinary(v) {
			v = deconstruct(v, &att)
		}
		vals[i] = v
	}
	data, err = marshal(vals)
	return data, att, err
}

// packetFrames builds the frames of a packet of type typ (EVENT or ACK; the binary type is
// chosen when there are attachments) on nsp with ack id id (noAck for none) and JSON data.
func packetFrames(typ byte, nsp string, id int64, data []byte, att [][]byte) []*frame {
	b := make([]byte, 0, len(data)+len(nsp)+24)
	if len(att) > 0 {
		typ += 3 // EVENT → BINARY_EVENT, ACK → BINARY_ACK
		b = append(b, typ)
		b = strconv.AppendInt(b, int64(len(att)), 10)
		b = append(b, '-')
	} else {
		b = append(b, typ)
	}
	if nsp != "/" {
		b = append(append(b, nsp...), ',')
	}
	if id != noAck {
		b = strconv.AppendInt(b, id, 10)
	}
	b = append(b, data...)
	frames := make([]*frame, 0, 1+len(att))
	frames = append(frames, textFrame(pktMessage, b))
	for _, a := range att {
		frames = append(frames, binaryFrame(a))
	}
	return frames
}

// controlFrame builds a CONNECT, DISCONNECT or CONNECT_ERROR packet.
func controlFrame(typ byte, nsp string, data []byte) *frame {
	b := []byte{typ}
	if nsp != "/" {
		b = append(append(b, nsp...), ',')
	}
	return textFrame(pktMessage, append(b, data...))
}
