package usecase

// What happens to use cases. The store records these with the change, so what follows
// (the submitter's notification now; the moderators' live queue, activity and audit later)
// survives a crash.

// Submitted: an author submitted (or resubmitted) a use case for review.
type Submitted struct {
	UseCaseID      string `json:"useCaseId"`
	Title          string `json:"title"`
	AuthorID       string `json:"authorId"`
	OrganizationID string `json:"organizationId"`
	Resubmitted    bool   `json:"resubmitted"`
}

func (Submitted) EventName() string     { return "usecase.submitted" }
func (e Submitted) AggregateID() string { return e.UseCaseID }

// Reviewed: a moderator published a use case, sent it back with comments, or rejected it with a
// reason; or a moderator or an administrator of its organization archived or restored it
// (Action archive or restore, ReviewerID the one who did, Comments the reason).
type Reviewed struct {
	UseCaseID  string `json:"useCaseId"`
	Title      string `json:"title"`
	AuthorID   string `json:"authorId"`
	ReviewerID string `json:"reviewerId"`
	Action     string `json:"action"` // publish | request_changes | reject | archive | restore
	Status     string `json:"status"` // the status it left the use case in
	Comments   string `json:"comments,omitempty"`
	// FieldComments counts the comments on fields (the author reads them on the use case).
	FieldComments int `json:"fieldComments,omitempty"`
}

func (Reviewed) EventName() string     { return "usecase.reviewed" }
func (e Reviewed) AggregateID() string { return e.UseCaseID }

// Claimed: a moderator opened a submitted use case for review (Status under_review), or put it
// back in the queue (Status submitted). Published to listeners only (the moderators' live
// queue); the history records it.
type Claimed struct {
	UseCaseID  string `json:"useCaseId"`
	Title      string `json:"title"`
	ReviewerID string `json:"reviewerId"`
	Status     string `json:"status"`
}

func (Claimed) EventName() string     { return "usecase.claimed" }
func (e Claimed) AggregateID() string { return e.UseCaseID }

// Drafted: an author started a use case (a draft). Recorded with it.
type Drafted struct {
	UseCaseID      string `json:"useCaseId"`
	AuthorID       string `json:"authorId"`
	OrganizationID string `json:"organizationId"`
}

func (Drafted) EventName() string     { return "usecase.drafted" }
func (e Drafted) AggregateID() string { return e.UseCaseID }

// Removed: an author deleted a use case that was in Status. Recorded with the deletion.
type Removed struct {
	UseCaseID      string `json:"useCaseId"`
	AuthorID       string `json:"authorId"`
	OrganizationID string `json:"organizationId"`
	Status         string `json:"status"`
}

func (Removed) EventName() string     { return "usecase.removed" }
func (e Removed) AggregateID() string { return e.UseCaseID }

// Reacted: someone liked or saved (Kind like | save) a use case, or took it back (On false);
// AuthorID is the use case's author. Recorded only when it changed.
type Reacted struct {
	UseCaseID string `json:"useCaseId"`
	AuthorID  string `json:"authorId"`
	Kind      string `json:"kind"`
	By        string `json:"by"`
	On        bool   `json:"on"`
}

func (Reacted) EventName() string     { return "usecase.reacted" }
func (e Reacted) AggregateID() string { return e.UseCaseID }

// Marked: a moderator set a published use case's marks (nil: that mark was left as it was).
// Told in process after the change, not recorded: what reads it (the public routes' cache)
// rebuilds from the store.
type Marked struct {
	UseCaseID string `json:"useCaseId"`
	Verified  *bool  `json:"verified,omitempty"`
	Featured  *bool  `json:"featured,omitempty"`
}

func (Marked) EventName() string     { return "usecase.marked" }
func (e Marked) AggregateID() string { return e.UseCaseID }
