package forum

import (
	"context"
	"time"
)

// Body is one version of what a post says: a reply's Markdown and its rendered HTML, and for a
// topic its title as of that version too.
type Body struct {
	Title     *string   `json:"title,omitempty"` // topics only
	Markdown  string    `json:"markdown"`
	HTML      string    `json:"html"`
	WrittenAt time.Time `json:"writtenAt"` // when this version was written: the post's creation or an edit
}

// Post types, as a Key and a Revision name them.
const (
	TypeTopic = "topic"
	TypeReply = "post"
)

// Key names a post: a topic (TypeTopic) or a reply (TypeReply), by id, with the topic it belongs
// to (a topic's own id for a topic). A store may keep a thread's bodies together by Topic: a page
// of replies is read from one thread, and the thread is the natural shard key.
type Key struct{ Type, ID, Topic string }

// TopicKey is the Key of topic id.
func TopicKey(id string) Key { return Key{Type: TypeTopic, ID: id, Topic: id} }

// ReplyKey is the Key of reply id of topic.
func ReplyKey(id, topic string) Key { return Key{Type: TypeReply, ID: id, Topic: topic} }

// Bodies keeps what posts say, every version of it, in a store of its own: MongoDB for operators
// who run it (forummongo). Without one the bodies stay on their PostgreSQL rows (forumdb).
// PostgreSQL stays the system of record for the rest (ids, authors, counters, titles, the text
// that search indexes) and owns the version numbers; the store holds only versions it was given.
//
// Its shape follows from writing to two stores without a transaction spanning them (as
// usecase.Documents'): a post's row commits first with its new version number, then the body is
// Put; a retried Put of the same version changes nothing, so a crash between the two heals by
// repeating it. Versions are never overwritten nor deleted: the older ones are the post's
// revision history, and a late Put of an old version cannot hide a newer one.
type Bodies interface {
	// Put stores b as version of k; a version already stored changes nothing.
	Put(ctx context.Context, k Key, version int, b Body) error
	// Latest returns the highest stored version of each of keys that has one, and its number.
	Latest(ctx context.Context, keys []Key) (map[Key]Versioned, error)
	// History returns every stored version of each of keys that has one, oldest first.
	History(ctx context.Context, keys []Key) (map[Key][]Versioned, error)
}

// Versioned is a Body with its version number.
type Versioned struct {
	Version int
	Body
}
