// Package usecase is the use cases: what a factory implemented and what it returned, written as
// a draft by a member of its organization, submitted for review, and published to every signed-in
// user by a platform moderator (or sent back with comments, or rejected with a reason).
//
// Statuses: draft → submitted → (claimed by a moderator: under_review) → published;
// submitted or under_review → changes_requested (with comments per field) → (edited) →
// submitted again; submitted or under_review → rejected; published → archived → published
// (restored). Only the author's organization sees a use case before it is published or once it
// is archived (others get 404, as for an unknown id), besides the moderators once it is
// submitted; only its author changes, submits or deletes it. Every change of status is audited
// (review.go).
package usecase

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/event"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/ids"
	"github.com/p2psandbox/hub/domain/page"
)

// Statuses.
const (
	StatusDraft            = "draft"
	StatusSubmitted        = "submitted"
	StatusUnderReview      = "under_review" // a moderator claimed it
	StatusChangesRequested = "changes_requested"
	StatusPublished        = "published"
	StatusRejected         = "rejected"
	StatusArchived         = "archived" // out of the library, restorable
)

// Moderators' actions.
const (
	ActionPublish        = "publish"
	ActionRequestChanges = "request_changes"
	ActionReject         = "reject"
)

// Sorts of the library.
const (
	SortNewest    = "newest" // published most recently first (the default)
	SortViewed    = "viewed"
	SortLiked     = "liked"
	SortSaved     = "saved"
	SortROI       = "roi"       // the highest stated ROI first; those stating none last
	SortRelevance = "relevance" // the best match of q first (newest without q)
	// Internal orders: an author's own (last changed first) and the queue (submitted first first).
	sortUpdated = "updated"
	sortQueue   = "queue"
)

// Categories are the submission form's nine (§2.5 d of the frontend contract).
var Categories = []string{
	"Quality Control", "Predictive Maintenance", "Factory Automation", "Sustainability",
	"Process Optimization", "Supply Chain", "Innovation & R&D", "Training & Safety", "Energy Efficiency",
}

// Content is what an author writes: the frontend's submission form, in the detail page's shape.
type Content struct {
	Title                  string              `json:"title"`
	Subtitle               string              `json:"subtitle"`
	Description            string              `json:"description"` // the executive summary
	Category               string              `json:"category"`
	Industry               string              `json:"industry"`
	FactoryName            string              `json:"factoryName"`
	Tags                   []string            `json:"tags"`
	BusinessChallenge      BusinessChallenge   `json:"businessChallenge"`
	Solution               Solution            `json:"solution"`
	Implementation         Implementation      `json:"implementation"`
	ChallengesAndSolutions []ChallengeSolution `json:"challengesAndSolutions"`
	Results                Results             `json:"results"`
	LessonsLearned         []Lesson            `json:"lessonsLearned"`
	Location               Location            `json:"location"`
	ContactPerson          string              `json:"contactPerson"`
	ContactTitle           string              `json:"contactTitle"`
	// ImageIDs are the author's uploaded images (POST /uploads, kind image), the hero first.
	ImageIDs []string `json:"imageIds"`
}

// BusinessChallenge is the problem the use case solved.
type BusinessChallenge struct {
	IndustryContext  string         `json:"industryContext"`
	SpecificProblems []string       `json:"specificProblems"`
	BusinessImpact   BusinessImpact `json:"businessImpact"`
}

// BusinessImpact is what the problem cost.
type BusinessImpact struct {
	FinancialLoss     string `json:"financialLoss"`
	CustomerImpact    string `json:"customerImpact"`
	OperationalImpact string `json:"operationalImpact"`
	ComplianceRisk    string `json:"complianceRisk"`
}

// Solution is what was chosen.
type Solution struct {
	SelectionCriteria    []string    `json:"selectionCriteria"`
	SelectedVendor       string      `json:"selectedVendor"`
	TechnologyComponents []Component `json:"technologyComponents"`
}

// Component is one part of the solution.
type Component struct {
	Component string `json:"component"`
	Details   string `json:"details"`
}

// Implementation is how it was put in place.
type Implementation struct {
	Methodology        string `json:"methodology"`
	ImplementationTime string `json:"implementationTime"` // "6 months implementation"
	TotalBudget        string `json:"totalBudget"`        // SAR, amount only: "285,000"
}

// ChallengeSolution is a difficulty met on the way. Outcome is optional: the frontend's form has
// no input for it.
type ChallengeSolution struct {
	Challenge   string `json:"challenge"`
	Description string `json:"description"`
	Solution    string `json:"solution"`
	Outcome     string `json:"outcome"`
}

// Results are what it returned.
type Results struct {
	QuantitativeMetrics []Metric    `json:"quantitativeMetrics"`
	QualitativeImpacts  []string    `json:"qualitativeImpacts"`
	RoiPercentage       string      `json:"roiPercentage"` // "250% ROI in first year"
	RoiAnalysis         RoiAnalysis `json:"roiAnalysis"`
}

// Metric is one measured result.
type Metric struct {
	Metric      string `json:"metric"`
	Baseline    string `json:"baseline"`
	Current     string `json:"current"`
	Improvement string `json:"improvement"`
}

// RoiAnalysis is the money (SAR amounts as written).
type RoiAnalysis struct {
	TotalInvestment string `json:"totalInvestment"`
	AnnualSavings   string `json:"annualSavings"`
	PaybackPeriod   string `json:"paybackPeriod"`
	ThreeYearROI    string `json:"threeYearROI"`
}

// Lesson is one lesson learned.
type Lesson struct {
	Category       string `json:"category"`
	Lesson         string `json:"lesson"`
	Description    string `json:"description"`
	Recommendation string `json:"recommendation"`
}

// Location is where the factory is.
type Location struct {
	City      string   `json:"city"`
	Region    string   `json:"region"`
	Latitude  *float64 `json:"latitude"`
	Longitude *float64 `json:"longitude"`
}

// Review is a moderator's last decision: the general comments and those on fields of the form.
type Review struct {
	Action        string         `json:"action"`
	Comments      string         `json:"comments"`
	FieldComments []FieldComment `json:"fieldComments"`
	ReviewedAt    time.Time      `json:"reviewedAt"`
	Reviewer      *Person        `json:"reviewer"`
}

// Person names a user: a reviewer, the actor of a transition.
type Person struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// UseCase is a use case as its detail page shows it: the content, flattened, with what the
// platform knows of it.
type UseCase struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	OrganizationID string `json:"organizationId"`
	AuthorID       string `json:"authorId"`
	Content
	Company        string `json:"company"` // the organization's name
	PublishedBy    string `json:"publishedBy"`
	PublisherTitle string `json:"publisherTitle"`
	// Verified: a platform moderator checked the use case (VerifiedBy names them); IsVerified is
	// the publisher's badge, of a verified organization.
	Verified    bool   `json:"verified"`
	VerifiedBy  string `json:"verifiedBy,omitempty"`
	IsVerified  bool   `json:"isVerified"`
	Featured    bool   `json:"featured"`
	Views       int    `json:"views"`
	Likes       int    `json:"likes"`
	Saves       int    `json:"saves"`
	LikedByMe   bool   `json:"likedByMe"`
	SavedByMe   bool   `json:"savedByMe"`
	IsMine      bool   `json:"isMine"`
	ReadTime    string `json:"readTime"`
	Version     int    `json:"version"`
	Submissions int    `json:"submissions"`
	// Review is the last decision, shown to the author's organization and the moderators only.
	Review *Review `json:"review"`
	// Images are the hero-sized URLs of the images, hero first (the frontend's images[]);
	// Gallery the same images with their other sizes. Both signed, short-lived.
	Images  []string `json:"images"`
	Gallery []Image  `json:"gallery"`
	// ReviewerID is the moderator reviewing it (under_review only).
	ReviewerID  string     `json:"reviewerId,omitempty"`
	SubmittedAt *time.Time `json:"submittedAt"`
	PublishedAt *time.Time `json:"publishedAt"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
	// Snippet and Rank: where and how well a library search matched (the list fills them).
	Snippet string  `json:"-"`
	Rank    float64 `json:"-"`
}

// Summary is a use case as the library's cards and the queue show it (§2.5 b).
type Summary struct {
	ID             string     `json:"id"`
	Status         string     `json:"status"`
	OrganizationID string     `json:"organizationId"`
	Title          string     `json:"title"`
	Subtitle       string     `json:"subtitle"`
	Description    string     `json:"description"`
	Category       string     `json:"category"`
	Industry       string     `json:"industry"`
	Company        string     `json:"company"`
	FactoryName    string     `json:"factoryName"`
	City           string     `json:"city"`
	Timeframe      string     `json:"timeframe"`
	RoiPercentage  string     `json:"roiPercentage"`
	Results        []Metric   `json:"results"`
	Tags           []string   `json:"tags"`
	Views          int        `json:"views"`
	Likes          int        `json:"likes"`
	Saves          int        `json:"saves"`
	LikedByMe      bool       `json:"likedByMe"`
	SavedByMe      bool       `json:"savedByMe"`
	Verified       bool       `json:"verified"`
	Featured       bool       `json:"featured"`
	PublishedBy    string     `json:"publishedBy"`
	PublisherTitle string     `json:"publisherTitle"`
	Image          *string    `json:"image"` // the first image, card-sized; null without one
	Version        int        `json:"version"`
	ReviewerID     string     `json:"reviewerId,omitempty"` // the moderator reviewing it (the queue's under_review ones)
	SubmittedAt    *time.Time `json:"submittedAt"`
	PublishedAt    *time.Time `json:"publishedAt"`
	UpdatedAt      time.Time  `json:"updatedAt"`
	// Snippet is where a search matched, its words between <mark> and </mark> (the only markup;
	// the rest escaped); only with q.
	Snippet string `json:"snippet,omitempty"`
	// Rank is how well it matched q (the relevance order's cursor).
	Rank float64 `json:"-"`
}

// Summarize is u as a card.
func Summarize(u UseCase) Summary {
	tags := u.Tags
	if tags == nil {
		tags = []string{}
	}
	results := u.Results.QuantitativeMetrics
	if results == nil {
		results = []Metric{}
	}
	return Summary{ID: u.ID, Status: u.Status, OrganizationID: u.OrganizationID, Title: u.Title, Subtitle: u.Subtitle,
		Description: u.Description, Category: u.Category, Industry: u.Industry, Company: u.Company, FactoryName: u.FactoryName,
		City: u.Location.City, Timeframe: u.Implementation.ImplementationTime, RoiPercentage: u.Results.RoiPercentage,
		Results: results, Tags: tags, Views: u.Views, Likes: u.Likes, Saves: u.Saves, LikedByMe: u.LikedByMe,
		SavedByMe: u.SavedByMe, Verified: u.Verified, Featured: u.Featured, PublishedBy: u.PublishedBy,
		PublisherTitle: u.PublisherTitle, Version: u.Version, ReviewerID: u.ReviewerID, SubmittedAt: u.SubmittedAt, PublishedAt: u.PublishedAt,
		UpdatedAt: u.UpdatedAt, Snippet: u.Snippet, Rank: u.Rank}
}

// Query filters and orders a list. Status "" is published.
type Query struct {
	Status         string
	Statuses       []string // one of these, when set (Status then ignored)
	AuthorID       string
	OrganizationID string
	Category       string
	Industry       string
	Text           string // full text, English and Arabic
	Saved          bool   // the viewer's saved use cases only
	Verified       bool   // verified by a moderator only
	Featured       bool   // featured only
	Technology     string // a tag or a technology component's name, any case
	City           string // any case
	RoiMin, RoiMax *float64
	Near           *Near
	Sort           string
}

// Near limits a list to use cases within RadiusKm of a point.
type Near struct {
	Latitude, Longitude, RadiusKm float64
}

// MaxRadiusKm bounds Near: the width of the kingdom.
const MaxRadiusKm = 2500

// Cursor is the position of the last item of a page.
type Cursor struct {
	At    time.Time `json:"t"`
	ID    string    `json:"i"`
	Count int       `json:"n,omitempty"`
	// Value is the position's score in the ROI and relevance orders.
	Value float64 `json:"v,omitempty"`
}

// Stored is a new use case as stored.
type Stored struct {
	ID, OrganizationID, AuthorID string
	Content                      Content
	At                           time.Time
}

// Transition is a change of status as stored: from one of From to To, at Version when it is not
// 0, recording Event with it and appending Action by ActorID (with Comments and Review's field
// comments) to the use case's history, in one transaction.
type Transition struct {
	From    []string
	To      string
	Version int
	At      time.Time
	Action  string
	ActorID string
	// Comments are the actor's words: a moderator's comments, the reason to archive.
	Comments string
	// Submit counts a submission and sets when; Publish sets when it was published (a restore
	// keeps the first date).
	Submit, Publish bool
	// Review, when set, is a moderator's decision, by ActorID.
	Review *Review
	Event  event.Event
}

// ErrStale answers a change made on a version that is no longer the use case's: someone (another
// tab) saved it since. Transports answer 412.
var ErrStale = &errs.Error{Code: errs.Stale, Message: "the use case changed since this version was read; reload it and apply the change again"}

// Store keeps the use cases. Methods that take a viewer fill the viewer's likedByMe and
// savedByMe. Unknown and deleted ids are errs.NotFound.
type Store interface {
	Create(ctx context.Context, u Stored) error
	Get(ctx context.Context, viewer, id string) (UseCase, error)
	// Save replaces the content of a use case in one of statuses, at version when it is not 0
	// (ErrStale otherwise), and returns its new version.
	Save(ctx context.Context, id string, version int, statuses []string, c Content, at time.Time) (int, error)
	// Transition changes a use case's status as t says; a status not in t.From is errs.Conflict,
	// another version ErrStale.
	Transition(ctx context.Context, id string, t Transition) error
	// Delete soft-deletes a use case in one of statuses, at version when it is not 0.
	Delete(ctx context.Context, id string, version int, statuses []string, at time.Time) error
	// List lists use cases as q says after the cursor, with the total that match; a text search
	// answers from its newest matches only, up to a bound, and says when the total is that bound
	// (capped).
	List(ctx context.Context, viewer string, q Query, after *Cursor, limit int) (items []UseCase, total int, capped bool, err error)
	// React records or removes the user's like ("like") or save ("save") of a published use case
	// and returns its count.
	React(ctx context.Context, kind, id, userID string, on bool, at time.Time) (int, error)
	// Related ranks published use cases like u (sharing its category, industry, tags and technologies), u
	// excluded, best first. Their content holds only what Summarize reads.
	Related(ctx context.Context, viewer string, u UseCase, limit int) ([]UseCase, error)
	// Mark sets a published use case's moderator marks (nil leaves one): verified by "by", and
	// featured. Anything but a published use case is errs.Conflict, an unknown one errs.NotFound.
	Mark(ctx context.Context, id, by string, verified, featured *bool, at time.Time) error
	// Facets counts the published use cases q finds per category and per industry (each ignoring
	// its own filter) and ranks the companies that published most, up to top.
	Facets(ctx context.Context, viewer string, q Query, top int) (Facets, error)
	// Points lists published use cases whose coordinates fall in b, newest first, as a GeoJSON
	// FeatureCollection (public.go).
	Points(ctx context.Context, b Box, limit int) (MapPoints, error)
	// PublicStats computes the landing page's figures.
	PublicStats(ctx context.Context) (PublicStats, error)
	// AddViews adds counted views to use cases.
	AddViews(ctx context.Context, views map[string]int) error
	// AddDownload counts one download of a use case's export (its PDF).
	AddDownload(ctx context.Context, id string) error
	// History lists a use case's transitions, oldest first, at most limit.
	History(ctx context.Context, id string, limit int) ([]Entry, error)
}

// Image is an image of a use case as its readers get it: signed URLs of its sizes.
type Image struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Width        int    `json:"width,omitempty"`
	Height       int    `json:"height,omitempty"`
	URL          string `json:"url"` // hero size (1600 px wide at most)
	CardURL      string `json:"cardUrl"`
	ThumbnailURL string `json:"thumbnailUrl"`
}

// Images keeps the uploaded images of use cases (domain/media behind it): attached when a save
// lists them, released when it stops listing them, shown to whoever may read the use case.
type Images interface {
	// Attach attaches the uploads ids of p to the use case; a file that cannot be is a
	// validation error on imageIds[i].
	Attach(ctx context.Context, p identity.Principal, useCaseID string, ids []string) error
	// Release detaches the use case's images that keep does not list.
	Release(ctx context.Context, useCaseID string, keep []string) error
	// Show signs the ready images among ids that belong to use cases; cardOnly signs the card
	// size alone (the library's cards).
	Show(ctx context.Context, ids []string, cardOnly bool) (map[string]Image, error)
}

// Views counts a published use case's views, once per user per day, away from the request:
// Seen is cheap and never fails the read.
type Views interface {
	Seen(ctx context.Context, useCaseID, userID string)
}

// Deps are what the service needs.
type Deps struct {
	Store  Store
	Events event.Publisher
	Views  Views  // nil: views are not counted
	Images Images // nil: use cases have no images (imageIds is refused)
	// Messenger opens conversations with publishers (nil: Contact is unavailable).
	Messenger Messenger
}

// Service is the use cases' rules.
type Service struct {
	store     Store
	events    event.Publisher
	views     Views
	images    Images
	messenger Messenger
	now       func() time.Time
}

// NewService returns the service.
func NewService(d Deps) *Service {
	if d.Events == nil {
		d.Events = event.Discard{}
	}
	return &Service{store: d.Store, events: d.Events, views: d.Views, images: d.Images, messenger: d.Messenger, now: time.Now}
}

var notFound = errs.E(errs.NotFound, "no such use case")

// editable are the statuses in which the author changes the content.
var editable = []string{StatusDraft, StatusChangesRequested}

// Create starts a draft of p's organization with whatever of the content is given (as a merge
// patch of an empty use case: any subset, types and sizes checked).
func (s *Service) Create(ctx context.Context, p identity.Principal, patch map[string]any) (UseCase, error) {
	if err := p.Require(identity.PermContentPublish); err != nil {
		return UseCase{}, err
	}
	c, err := Merge(Content{}, patch)
	if err != nil {
		return UseCase{}, err
	}
	if err := checkSizes(c); err != nil {
		return UseCase{}, err
	}
	u := Stored{ID: ids.New(), OrganizationID: p.OrganizationID, AuthorID: p.UserID, Content: tidy(c), At: s.now().UTC()}
	if err := s.attach(ctx, p, u.ID, nil, c.ImageIDs); err != nil {
		return UseCase{}, err
	}
	if err := s.store.Create(ctx, u); err != nil {
		return UseCase{}, s.unattach(ctx, u.ID, nil, err)
	}
	return s.Get(ctx, p, u.ID)
}

// Get is one use case, if p may see it: published ones to everyone; others to the author's
// organization, and submitted or reviewed ones to moderators.
func (s *Service) Get(ctx context.Context, p identity.Principal, id string) (UseCase, error) {
	if !ids.Valid(id) {
		return UseCase{}, notFound
	}
	u, err := s.store.Get(ctx, p.UserID, id)
	if err != nil {
		return UseCase{}, err
	}
	if !visible(p, u) {
		return UseCase{}, notFound
	}
	u.IsMine = u.AuthorID == p.UserID
	u.ReadTime = readTime(u.Content)
	if err := s.showImages(ctx, &u); err != nil {
		return UseCase{}, err
	}
	if u.OrganizationID != p.OrganizationID && !p.Can(identity.PermUseCasesReview) {
		u.Review, u.ReviewerID = nil, "" // between the author's organization and the moderators
		if !p.EmailVerified {
			// Contact details are for people with a confirmed address.
			u.ContactPerson, u.ContactTitle = "", ""
		}
	}
	return u, nil
}

// View is Get for the detail page: a published use case's view is counted, once per reader
// per day, and not its author's.
func (s *Service) View(ctx context.Context, p identity.Principal, id string) (UseCase, error) {
	u, err := s.Get(ctx, p, id)
	if err == nil && s.views != nil && u.Status == StatusPublished && p.UserID != "" && !u.IsMine {
		s.views.Seen(ctx, id, p.UserID)
	}
	return u, err
}

func visible(p identity.Principal, u UseCase) bool {
	switch {
	case u.Status == StatusPublished, u.OrganizationID == p.OrganizationID:
		return true
	case u.Status == StatusDraft:
		return false
	}
	return p.Can(identity.PermUseCasesReview)
}

// own is a use case p wrote: others of the organization see it and get 403; the rest 404.
func (s *Service) own(ctx context.Context, p identity.Principal, id string) (UseCase, error) {
	u, err := s.Get(ctx, p, id)
	if err != nil {
		return UseCase{}, err
	}
	if u.AuthorID != p.UserID {
		return UseCase{}, errs.E(errs.Forbidden, "only the author changes a use case")
	}
	return u, nil
}

// Update applies a JSON merge patch (RFC 7396) to the content of p's draft, at version when it
// is not 0: autosave checks types and sizes only, the rules wait for validation and submission.
// Without a version the patch applies to the latest content: a save that raced it is merged
// with, not overwritten.
func (s *Service) Update(ctx context.Context, p identity.Principal, id string, version int, patch map[string]any) (UseCase, error) {
	for attempt := 0; ; attempt++ {
		u, err := s.own(ctx, p, id)
		if err != nil {
			return UseCase{}, err
		}
		if !isEditable(u.Status) {
			return UseCase{}, errs.E(errs.Conflict, "a %s use case cannot be edited", strings.ReplaceAll(u.Status, "_", " "))
		}
		if version != 0 && version != u.Version {
			return UseCase{}, ErrStale
		}
		c, err := Merge(u.Content, patch)
		if err != nil {
			return UseCase{}, err
		}
		if err := checkSizes(c); err != nil {
			return UseCase{}, err
		}
		if err := s.attach(ctx, p, id, u.ImageIDs, c.ImageIDs); err != nil {
			return UseCase{}, err
		}
		_, err = s.store.Save(ctx, id, u.Version, editable, tidy(c), s.now().UTC())
		if err != nil {
			err = s.unattach(ctx, id, u.ImageIDs, err)
		}
		if errors.Is(err, ErrStale) && version == 0 && attempt < 5 {
			continue
		}
		if err != nil {
			return UseCase{}, err
		}
		if s.images != nil && !slices.Equal(u.ImageIDs, c.ImageIDs) {
			if err := s.images.Release(ctx, id, c.ImageIDs); err != nil {
				return UseCase{}, err
			}
		}
		return s.Get(ctx, p, id)
	}
}

// attach attaches the images a save lists that the saved content did not (had).
func (s *Service) attach(ctx context.Context, p identity.Principal, id string, had, next []string) error {
	added := slices.DeleteFunc(slices.Clone(next), func(x string) bool { return slices.Contains(had, x) })
	if len(added) == 0 {
		return nil
	}
	if s.images == nil {
		return errs.Fields(errs.FieldError{Field: "imageIds", Message: "images are not enabled on this server"})
	}
	if err := s.images.Attach(ctx, p, id, added); err != nil {
		return s.unattach(ctx, id, had, err)
	}
	return nil
}

// unattach undoes attach after a failed save (cause): the use case keeps the images it had, and
// the ones the save brought go back to their uploader, unattached.
func (s *Service) unattach(ctx context.Context, id string, had []string, cause error) error {
	if s.images == nil {
		return cause
	}
	if err := s.images.Release(context.WithoutCancel(ctx), id, had); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

// showImages signs the use case's images in their order; an image released or not ready is
// left out.
func (s *Service) showImages(ctx context.Context, u *UseCase) error {
	if u.ImageIDs == nil {
		u.ImageIDs = []string{}
	}
	u.Images, u.Gallery = []string{}, []Image{}
	if s.images == nil || len(u.ImageIDs) == 0 {
		return nil
	}
	shown, err := s.images.Show(ctx, u.ImageIDs, false)
	if err != nil {
		return err
	}
	for _, id := range u.ImageIDs {
		if img, ok := shown[id]; ok {
			u.Images = append(u.Images, img.URL)
			u.Gallery = append(u.Gallery, img)
		}
	}
	return nil
}

// summaries are the cards of items, each with its first image, card-sized (signed in one call).
func (s *Service) summaries(ctx context.Context, items []UseCase) ([]Summary, error) {
	cards := make([]Summary, len(items))
	var first []string
	for i, u := range items {
		cards[i] = Summarize(u)
		if len(u.ImageIDs) > 0 {
			first = append(first, u.ImageIDs[0])
		}
	}
	if s.images == nil || len(first) == 0 {
		return cards, nil
	}
	shown, err := s.images.Show(ctx, first, true)
	if err != nil {
		return nil, err
	}
	for i, u := range items {
		if len(u.ImageIDs) == 0 {
			continue
		}
		if img, ok := shown[u.ImageIDs[0]]; ok && img.CardURL != "" {
			url := img.CardURL
			cards[i].Image = &url
		}
	}
	return cards, nil
}

func isEditable(status string) bool { return status == StatusDraft || status == StatusChangesRequested }

// deletable are the statuses in which the author deletes a use case: not while the moderators
// have it nor while it is published (archive it first).
var deletable = []string{StatusDraft, StatusChangesRequested, StatusRejected, StatusArchived}

// Delete removes p's own use case that is not published nor in review.
func (s *Service) Delete(ctx context.Context, p identity.Principal, id string, version int) error {
	u, err := s.own(ctx, p, id)
	if err != nil {
		return err
	}
	if !slices.Contains(deletable, u.Status) {
		return errs.E(errs.Conflict, "a %s use case cannot be deleted", strings.ReplaceAll(u.Status, "_", " "))
	}
	return s.store.Delete(ctx, id, version, deletable, s.now().UTC())
}

// Validate checks one step of the submission form (1 to 6; 6, review, checks them all) with the
// frontend's rules, in lang ("ar" or English).
func (s *Service) Validate(ctx context.Context, p identity.Principal, id string, step int, lang string) (UseCase, error) {
	if step < 1 || step > Steps {
		return UseCase{}, errs.Fields(errs.FieldError{Field: "step", Message: msg(lang).number(1, Steps)})
	}
	u, err := s.Get(ctx, p, id)
	if err != nil {
		return UseCase{}, err
	}
	if bad := CheckStep(u.Content, step, lang); len(bad) > 0 {
		return UseCase{}, errs.Fields(bad...)
	}
	return u, nil
}

// Submit sends p's draft (or the one sent back with comments) to the moderators, after checking
// every step.
func (s *Service) Submit(ctx context.Context, p identity.Principal, id string, version int, lang string) (UseCase, error) {
	u, err := s.own(ctx, p, id)
	if err != nil {
		return UseCase{}, err
	}
	if !p.EmailVerified {
		return UseCase{}, errs.E(errs.Forbidden, "confirm your email address before submitting; the link is in the mail we sent you")
	}
	if !isEditable(u.Status) {
		return UseCase{}, errs.E(errs.Conflict, "a %s use case cannot be submitted", strings.ReplaceAll(u.Status, "_", " "))
	}
	if version != 0 && version != u.Version {
		return UseCase{}, ErrStale
	}
	if bad := CheckStep(u.Content, Steps, lang); len(bad) > 0 {
		return UseCase{}, errs.Fields(bad...)
	}
	ev := Submitted{UseCaseID: id, Title: u.Title, AuthorID: u.AuthorID, OrganizationID: u.OrganizationID, Resubmitted: u.Submissions > 0}
	err = s.store.Transition(ctx, id, Transition{From: editable, To: StatusSubmitted, Version: u.Version, At: s.now().UTC(),
		Action: ActionSubmit, ActorID: p.UserID, Submit: true, Event: ev})
	if err != nil {
		return UseCase{}, err
	}
	s.events.Publish(ctx, ev)
	return s.Get(ctx, p, id)
}

// Mine lists p's own use cases, whatever their status (or of one), last changed first.
func (s *Service) Mine(ctx context.Context, p identity.Principal, status string, limit int, cursor string) (page.Page[Summary], error) {
	switch status {
	case "", StatusDraft, StatusSubmitted, StatusUnderReview, StatusChangesRequested, StatusPublished, StatusRejected, StatusArchived:
	default:
		return page.Page[Summary]{}, errs.Fields(errs.FieldError{Field: "status",
			Message: "must be draft, submitted, under_review, changes_requested, published, rejected or archived"})
	}
	if status == "" {
		status = "any"
	}
	return s.list(ctx, p, Query{Status: status, AuthorID: p.UserID, Sort: sortUpdated}, limit, cursor)
}

// MaxQuery bounds a search's text.
const MaxQuery = 200

// Facet is a value and how many use cases have it.
type Facet struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Facets are the library's sidebar: counts per category and industry for the filters in force
// (each facet ignoring its own filter, so the other values stay choosable), and the companies that
// published most.
type Facets struct {
	Categories   []Facet `json:"categories"`
	Industries   []Facet `json:"industries"`
	TopCompanies []Facet `json:"topCompanies"`
}

// topCompanies is how many contributing companies the sidebar ranks.
const topCompanies = 5

// Facets counts the library's published use cases as q filters them (its sort ignored).
func (s *Service) Facets(ctx context.Context, p identity.Principal, q Query) (Facets, error) {
	q.Sort = ""
	if err := checkLibrary(&q); err != nil {
		return Facets{}, err
	}
	return s.store.Facets(ctx, p.UserID, q, topCompanies)
}

// Library lists published use cases as q asks (its Status is ignored).
func (s *Service) Library(ctx context.Context, p identity.Principal, q Query, limit int, cursor string) (page.Page[Summary], error) {
	if err := checkLibrary(&q); err != nil {
		return page.Page[Summary]{}, err
	}
	return s.list(ctx, p, q, limit, cursor)
}

// checkLibrary makes q a query of the library, or says what is wrong with it.
func checkLibrary(q *Query) error {
	q.Status, q.AuthorID = StatusPublished, ""
	switch q.Sort {
	case "":
		q.Sort = SortNewest
	case SortRelevance:
		if strings.TrimSpace(q.Text) == "" {
			q.Sort = SortNewest // nothing to be relevant to
		}
	case SortNewest, SortViewed, SortLiked, SortSaved, SortROI:
	default:
		return errs.Fields(errs.FieldError{Field: "sort", Message: "must be newest, viewed, liked, saved, roi or relevance"})
	}
	if q.RoiMin != nil && q.RoiMax != nil && *q.RoiMin > *q.RoiMax {
		return errs.Fields(errs.FieldError{Field: "roiMin", Message: "must not be above roiMax"})
	}
	if n := q.Near; n != nil && (n.Latitude < -90 || n.Latitude > 90 || n.Longitude < -180 || n.Longitude > 180) {
		return errs.Fields(errs.FieldError{Field: "near", Message: "must be latitude,longitude on the globe"})
	}
	if n := q.Near; n != nil && !(n.RadiusKm > 0 && n.RadiusKm <= MaxRadiusKm) {
		return errs.Fields(errs.FieldError{Field: "radiusKm", Message: "must be above 0 and at most 2500"})
	}
	if q.OrganizationID != "" && !ids.Valid(q.OrganizationID) {
		return errs.Fields(errs.FieldError{Field: "organizationId", Message: "is not an id"})
	}
	q.Text = strings.TrimSpace(q.Text)
	if utf8.RuneCountInString(q.Text) > MaxQuery {
		return errs.Fields(errs.FieldError{Field: "q", Message: "must be at most 200 characters"})
	}
	for name, v := range map[string]string{"category": q.Category, "industry": q.Industry, "tech": q.Technology, "city": q.City} {
		if utf8.RuneCountInString(v) > maxShort {
			return errs.Fields(errs.FieldError{Field: name, Message: "must be at most 100 characters"})
		}
	}
	return nil
}

func (s *Service) list(ctx context.Context, p identity.Principal, q Query, limit int, cursor string) (page.Page[Summary], error) {
	limit, err := page.Limit(limit)
	if err != nil {
		return page.Page[Summary]{}, err
	}
	var after *Cursor
	if cursor != "" {
		after = &Cursor{}
		if err := page.Decode(cursor, after); err != nil {
			return page.Page[Summary]{}, err
		}
		if !ids.Valid(after.ID) {
			return page.Page[Summary]{}, errs.Fields(errs.FieldError{Field: "cursor", Message: "is not a cursor this list issued"})
		}
	}
	items, total, capped, err := s.store.List(ctx, p.UserID, q, after, limit+1)
	if err != nil {
		return page.Page[Summary]{}, err
	}
	cards, err := s.summaries(ctx, items)
	if err != nil {
		return page.Page[Summary]{}, err
	}
	pg := page.Build(cards, limit, func(u Summary) any { return cursorOf(u, q.Sort) })
	pg.Total, pg.TotalCapped = &total, capped
	return pg, nil
}

func cursorOf(u Summary, sort string) Cursor {
	at := func(t *time.Time) time.Time {
		if t == nil {
			return time.Time{}
		}
		return *t
	}
	switch sort {
	case sortUpdated:
		return Cursor{At: u.UpdatedAt, ID: u.ID}
	case sortQueue:
		return Cursor{At: at(u.SubmittedAt), ID: u.ID}
	case SortViewed:
		return Cursor{At: at(u.PublishedAt), ID: u.ID, Count: u.Views}
	case SortLiked:
		return Cursor{At: at(u.PublishedAt), ID: u.ID, Count: u.Likes}
	case SortSaved:
		return Cursor{At: at(u.PublishedAt), ID: u.ID, Count: u.Saves}
	case SortROI:
		v := NoROI
		if r := ROI(u.RoiPercentage); r != nil {
			v = *r
		}
		return Cursor{At: at(u.PublishedAt), ID: u.ID, Value: v}
	case SortRelevance:
		return Cursor{At: at(u.PublishedAt), ID: u.ID, Value: u.Rank}
	}
	return Cursor{At: at(u.PublishedAt), ID: u.ID}
}

// Verify marks a published use case verified by the moderator p (on), or takes it back.
func (s *Service) Verify(ctx context.Context, p identity.Principal, id string, on bool) (UseCase, error) {
	return s.mark(ctx, p, id, &on, nil)
}

// Feature features a published use case (on), or stops featuring it.
func (s *Service) Feature(ctx context.Context, p identity.Principal, id string, on bool) (UseCase, error) {
	return s.mark(ctx, p, id, nil, &on)
}

func (s *Service) mark(ctx context.Context, p identity.Principal, id string, verified, featured *bool) (UseCase, error) {
	if err := p.Require(identity.PermUseCasesReview); err != nil {
		return UseCase{}, err
	}
	if !ids.Valid(id) {
		return UseCase{}, errs.E(errs.NotFound, "no such use case")
	}
	if err := s.store.Mark(ctx, id, p.UserID, verified, featured, s.now().UTC()); err != nil {
		return UseCase{}, err
	}
	s.events.Publish(ctx, Marked{UseCaseID: id, Verified: verified, Featured: featured})
	return s.Get(ctx, p, id)
}

// relatedShown is how many related use cases the detail page shows.
const relatedShown = 6

// Related lists published use cases like a published one, best first: same category (3 points),
// same industry (2), and one per tag or technology they share.
func (s *Service) Related(ctx context.Context, p identity.Principal, id string) ([]Summary, error) {
	u, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if u.Status != StatusPublished {
		return []Summary{}, nil
	}
	items, err := s.store.Related(ctx, p.UserID, u, relatedShown)
	if err != nil {
		return nil, err
	}
	return s.summaries(ctx, items)
}

// React likes or saves (on) a published use case, or takes the like or save back, and returns
// its count.
func (s *Service) React(ctx context.Context, p identity.Principal, kind, id string, on bool) (int, error) {
	u, err := s.Get(ctx, p, id)
	if err != nil {
		return 0, err
	}
	if u.Status != StatusPublished {
		return 0, errs.E(errs.Conflict, "only a published use case is liked or saved")
	}
	return s.store.React(ctx, kind, id, p.UserID, on, s.now().UTC())
}

// wordsPerMinute is the reading speed of readTime.
const wordsPerMinute = 200

// readTime is "N min read" for the content's words.
func readTime(c Content) string {
	words := 0
	count := func(ss ...string) {
		for _, s := range ss {
			words += len(strings.Fields(s))
		}
	}
	count(c.Title, c.Subtitle, c.Description, c.BusinessChallenge.IndustryContext, c.Solution.SelectedVendor,
		c.Implementation.Methodology, c.Results.RoiPercentage)
	count(c.BusinessChallenge.SpecificProblems...)
	count(c.Solution.SelectionCriteria...)
	count(c.Results.QualitativeImpacts...)
	for _, x := range c.Solution.TechnologyComponents {
		count(x.Component, x.Details)
	}
	for _, x := range c.ChallengesAndSolutions {
		count(x.Challenge, x.Description, x.Solution, x.Outcome)
	}
	for _, x := range c.Results.QuantitativeMetrics {
		count(x.Metric, x.Baseline, x.Current, x.Improvement)
	}
	for _, x := range c.LessonsLearned {
		count(x.Lesson, x.Description, x.Recommendation)
	}
	return strconv.Itoa(max(1, (words+wordsPerMinute-1)/wordsPerMinute)) + " min read"
}

var leadingNumber = regexp.MustCompile(`^\s*([0-9][0-9,]*(?:\.[0-9]+)?)`)

// NoROI stands for "states no ROI" in the ROI order: below every number stated.
const NoROI = -1e300

// ROI is the leading number of an ROI as written ("250% ROI in first year" → 250), for sorting
// and filtering; nil when it has none.
func ROI(s string) *float64 {
	m := leadingNumber.FindStringSubmatch(s)
	if m == nil {
		return nil
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64)
	if err != nil {
		return nil
	}
	return &f
}

// CountDownload counts one download of a use case's PDF export: the caller checked that the
// downloader may read it.
func (s *Service) CountDownload(ctx context.Context, id string) error {
	return s.store.AddDownload(ctx, id)
}
