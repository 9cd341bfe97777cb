package forum

// What happens in the forum. The store records these with the change, so what follows
// (notifications now; the activity feed, reputation and search later) survives a crash.

// TopicPosted: someone posted a topic.
type TopicPosted struct {
	TopicID   string   `json:"topicId"`
	Title     string   `json:"title"`
	AuthorID  string   `json:"authorId"`
	Kind      string   `json:"kind"` // question | discussion
	Excerpt   string   `json:"excerpt"`
	Mentioned []string `json:"mentioned,omitempty"`
}

func (TopicPosted) EventName() string     { return "forum.topic_posted" }
func (e TopicPosted) AggregateID() string { return e.TopicID }

// ReplyPosted: someone replied to a topic, or to a reply of it.
type ReplyPosted struct {
	ReplyID        string   `json:"replyId"`
	TopicID        string   `json:"topicId"`
	TopicTitle     string   `json:"topicTitle"`
	TopicAuthorID  string   `json:"topicAuthorId"`
	ParentAuthorID string   `json:"parentAuthorId,omitempty"` // of the reply replied to
	AuthorID       string   `json:"authorId"`
	Excerpt        string   `json:"excerpt"`
	Mentioned      []string `json:"mentioned,omitempty"`
}

func (ReplyPosted) EventName() string     { return "forum.reply_posted" }
func (e ReplyPosted) AggregateID() string { return e.TopicID }

// BestAnswerMarked: a question's author chose a reply as its best answer.
type BestAnswerMarked struct {
	TopicID       string `json:"topicId"`
	TopicTitle    string `json:"topicTitle"`
	ReplyID       string `json:"replyId"`
	ReplyAuthorID string `json:"replyAuthorId"`
	MarkedBy      string `json:"markedBy"`
	// PreviousAuthorID is the author of the reply it replaced, if another was marked before.
	PreviousAuthorID string `json:"previousAuthorId,omitempty"`
}

func (BestAnswerMarked) EventName() string     { return "forum.best_answer_marked" }
func (e BestAnswerMarked) AggregateID() string { return e.TopicID }

// PostHidden: a moderator hid a topic or reply, with a reason its author is told.
type PostHidden struct {
	TargetType string `json:"targetType"` // topic | reply
	ID         string `json:"id"`
	TopicID    string `json:"topicId"`
	TopicTitle string `json:"topicTitle"`
	AuthorID   string `json:"authorId"`
	By         string `json:"by"`
	Reason     string `json:"reason"`
}

func (PostHidden) EventName() string     { return "forum.post_hidden" }
func (e PostHidden) AggregateID() string { return e.TopicID }

// PostRemoved: a topic or reply was deleted by its author or hidden by a moderator (the reply
// stays a tombstone). Counters of what people posted and earned follow it.
type PostRemoved struct {
	TargetType string `json:"targetType"` // topic | reply
	ID         string `json:"id"`
	TopicID    string `json:"topicId"`
	AuthorID   string `json:"authorId"`
	Kind       string `json:"kind,omitempty"` // a topic's: question | discussion
	// WasBestAnswer: the reply was its question's best answer, which it no longer is.
	WasBestAnswer bool `json:"wasBestAnswer,omitempty"`
}

func (PostRemoved) EventName() string     { return "forum.post_removed" }
func (e PostRemoved) AggregateID() string { return e.TopicID }

// Liked: someone liked (On) or stopped liking a topic ("topic") or reply ("post"); AuthorID
// is the author of what was liked. Recorded only when the like changed.
type Liked struct {
	TargetType string `json:"targetType"`
	ID         string `json:"id"`
	AuthorID   string `json:"authorId"`
	By         string `json:"by"`
	On         bool   `json:"on"`
}

func (Liked) EventName() string     { return "forum.liked" }
func (e Liked) AggregateID() string { return e.ID }

// Bookmarked: someone bookmarked (On) or forgot a topic. Recorded only when it changed.
type Bookmarked struct {
	TopicID string `json:"topicId"`
	By      string `json:"by"`
	On      bool   `json:"on"`
}

func (Bookmarked) EventName() string     { return "forum.bookmarked" }
func (e Bookmarked) AggregateID() string { return e.TopicID }

// Live changes, published to this process's listeners after the commit (socket pushes to the
// topic's room); not recorded. What they carry is the same for every viewer: likedByMe,
// bookmarkedByMe and isMine are false.

// Post changes: a reply was posted, edited or deleted.
const (
	PostNew     = "new"
	PostUpdated = "updated"
	PostDeleted = "deleted"
)

// PostChanged: a reply of a topic was posted, edited or deleted (Reply is then its tombstone).
// Topic, when set, is the topic as it is after a reply came or went (its counters moved): one
// push to the room then tells both, as a room of a thousand viewers costs per push.
type PostChanged struct {
	Change string `json:"change"`
	Reply  Reply  `json:"reply"`
	Topic  *Topic `json:"topic,omitempty"`
}

func (PostChanged) EventName() string     { return "forum.post_changed" }
func (e PostChanged) AggregateID() string { return e.Reply.TopicID }

// TopicCreated: a topic was posted (to the lists' viewers).
type TopicCreated struct {
	Topic Topic `json:"topic"`
}

func (TopicCreated) EventName() string     { return "forum.topic_created" }
func (e TopicCreated) AggregateID() string { return e.Topic.ID }

// TopicChanged: a topic's title, body, counters, best answer or state changed, or it was
// deleted.
type TopicChanged struct {
	Topic   Topic `json:"topic"`
	Deleted bool  `json:"deleted"`
}

func (TopicChanged) EventName() string     { return "forum.topic_changed" }
func (e TopicChanged) AggregateID() string { return e.Topic.ID }
