package sio

import (
	"encoding/json"
)

// Normalize turns a payload into the plain values that both the JSON packet encoder and the
// adapter's msgpack encoding read the same way: maps, slices, strings, numbers, booleans, nil and
// []byte. Structs go through encoding/json so that their json tags name the fields everywhere (the
// msgpack encoder would otherwise use Go field names on the way through Redis).
func Normalize(v any) any { return normalize(v, false) }

// forSocket prepares a payload that goes straight to a socket of this node (an ack): as
// Normalize, except that a struct is encoded to JSON once and handed to the packet encoder as
// it is, not rebuilt as maps first.
func forSocket(v any) any { return normalize(v, true) }

func normalize(v any, raw bool) any {
	switch x := v.(type) {
	case nil, bool, string, float64, float32, int, int8, int16, int32, int64,
		uint, uint8, uint16, uint32, uint64, []byte:
		return x
	case json.RawMessage:
		if raw {
			return x
		}
		var out any
		if err := json.Unmarshal(x, &out); err != nil {
			return nil
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e, raw)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e, raw)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return nil
		}
		if raw {
			return json.RawMessage(b)
		}
		var out any
		if err := json.Unmarshal(b, &out); err != nil {
			return nil
		}
		return out
	}
}
