package forum

// What happens in the forum. The store records these with the change, so what follows
// (notifications now; the activity feed, reputation and search later) survives a crash.

// ReplyPosted: someone replied to a topic, or to a reply of it.
type ReplyPosted struct {
	ReplyID        string `json:"replyId"`
	TopicID        string `json:"topicId"`
	TopicTitle     string `json:"topicTitle"`
	TopicAuthorID  string `json:"topicAuthorId"`
	ParentAuthorID string `json:"parentAuthorId,omitempty"` // of the reply replied to
	AuthorID       string `json:"authorId"`
	Excerpt        string `json:"excerpt"`
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
}

func (BestAnswerMarked) EventName() string     { return "forum.best_answer_marked" }
func (e BestAnswerMarked) AggregateID() string { return e.TopicID }
