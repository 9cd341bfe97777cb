package identity

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/p2psandbox/hub/domain/errs"
)

// ExpertiseTags is the fixed list a profile's expertise comes from.
var ExpertiseTags = []string{
	"lean_manufacturing", "six_sigma", "quality_control", "automation", "plc_programming",
	"industrial_iot", "maintenance", "safety", "supply_chain", "inventory_management",
	"cost_reduction", "energy_efficiency", "digital_transformation", "erp_systems", "data_analytics",
	"ai_ml", "robotics", "3d_printing", "sustainability", "regulatory_compliance",
}

// Profile visibilities: who may open a user's profile and see their presence (CanSeeProfile).
const (
	VisibilityPublic       = "public"        // every signed-in user
	VisibilityVerified     = "verified_only" // colleagues and users of verified organizations
	VisibilityOrganization = "organization"  // colleagues only
	VisibilityPrivate      = "private"       // nobody but the user
)

// Visibilities lists the profile visibilities.
var Visibilities = []string{VisibilityPublic, VisibilityVerified, VisibilityOrganization, VisibilityPrivate}

// MaxExpertiseTags is how many tags a profile may carry.
const MaxExpertiseTags = 10

// ProfileUpdate is a PATCH of the user's own profile: nil fields stay as they are.
type ProfileUpdate struct {
	FirstName          *string   `json:"firstName"`
	LastName           *string   `json:"lastName"`
	Email              *string   `json:"email"`
	JobTitle           *string   `json:"jobTitle"`
	City               *string   `json:"city"`
	Bio                *string   `json:"bio"`
	ExpertiseTags      *[]string `json:"expertiseTags"`
	LanguagePreference *string   `json:"languagePreference"`
	ProfileVisibility  *string   `json:"profileVisibility"`
	AllowMessagesFrom  *string   `json:"allowMessagesFrom"`
}

// apply validates the update and applies it to u, reporting every bad field.
func (up ProfileUpdate) apply(u *User) []errs.FieldError {
	var bad []errs.FieldError
	add := func(field, msg string) {
		if msg != "" {
			bad = append(bad, errs.FieldError{Field: field, Message: msg})
		}
	}
	text := func(field string, v *string, dst *string, min, max int) {
		if v == nil {
			return
		}
		s := strings.TrimSpace(*v)
		if min == 0 && s == "" {
			*dst = ""
			return
		}
		if msg := ValidateName(s, min, max); msg != "" {
			add(field, msg)
			return
		}
		*dst = s
	}
	text("firstName", up.FirstName, &u.FirstName, 1, 50)
	text("lastName", up.LastName, &u.LastName, 1, 50)
	text("jobTitle", up.JobTitle, &u.JobTitle, 0, 100)
	text("city", up.City, &u.City, 0, 50)
	if up.Bio != nil {
		bio := strings.TrimSpace(*up.Bio)
		if utf8.RuneCountInString(bio) > 500 {
			add("bio", "is too long (at most 500 characters)")
		} else {
			u.Bio = bio
		}
	}
	if up.Email != nil {
		email := strings.ToLower(strings.TrimSpace(*up.Email))
		if msg := ValidateEmail(email); msg != "" {
			add("email", msg)
		} else {
			u.Email = email
		}
	}
	if up.ExpertiseTags != nil {
		tags := slices.Clone(*up.ExpertiseTags)
		slices.Sort(tags)
		tags = slices.Compact(tags)
		switch {
		case len(tags) > MaxExpertiseTags:
			add("expertiseTags", fmt.Sprintf("at most %d tags", MaxExpertiseTags))
		default:
			for _, t := range tags {
				if !slices.Contains(ExpertiseTags, t) {
					add("expertiseTags", fmt.Sprintf("%q is not one of: %s", t, strings.Join(ExpertiseTags, ", ")))
					break
				}
			}
			u.ExpertiseTags = tags
		}
	}
	if up.LanguagePreference != nil {
		if msg := OneOf(*up.LanguagePreference, Languages); msg != "" {
			add("languagePreference", msg)
		} else {
			u.LanguagePreference = *up.LanguagePreference
		}
	}
	if up.ProfileVisibility != nil {
		if msg := OneOf(*up.ProfileVisibility, Visibilities); msg != "" {
			add("profileVisibility", msg)
		} else {
			u.ProfileVisibility = *up.ProfileVisibility
		}
	}
	if up.AllowMessagesFrom != nil {
		if msg := OneOf(*up.AllowMessagesFrom, MessageAudiences); msg != "" {
			add("allowMessagesFrom", msg)
		} else {
			u.AllowMessagesFrom = *up.AllowMessagesFrom
		}
	}
	return bad
}

// UpdateProfile changes the principal's own profile. A new email moves the credentials in the
// auth core first, then starts verification again for the new address.
func (s *Service) UpdateProfile(ctx context.Context, p Principal, up ProfileUpdate) (Account, error) {
	acc, err := s.d.Store.Account(ctx, p.UserID)
	if err != nil {
		return Account{}, err
	}
	u := acc.User
	if bad := up.apply(&u); len(bad) > 0 {
		return Account{}, errs.Fields(bad...)
	}
	emailChanged := u.Email != acc.User.Email
	if emailChanged {
		if err := s.d.Credentials.ChangeEmail(ctx, u.ID, u.Email); err != nil {
			return Account{}, err
		}
	}
	if err := s.d.Store.UpdateProfile(ctx, u); err != nil {
		if emailChanged { // put the core back in step with us
			if rerr := s.d.Credentials.ChangeEmail(ctx, u.ID, acc.User.Email); rerr != nil {
				err = fmt.Errorf("%w (and restoring the old email in the core: %v)", err, rerr)
			}
		}
		return Account{}, err
	}
	if emailChanged {
		if err := s.d.Credentials.SendVerification(ctx, u.ID, u.Email); err != nil {
			return Account{}, fmt.Errorf("profile saved, but the verification mail failed: %w", err)
		}
		u.EmailVerified = false
	} else {
		u.EmailVerified = p.EmailVerified
	}
	acc.User = u
	return acc, nil
}

// PublicProfile is what other users see of someone.
type PublicProfile struct {
	ID            string     `json:"id"`
	FirstName     string     `json:"firstName"`
	LastName      string     `json:"lastName"`
	Email         *string    `json:"email"` // colleagues only
	Role          string     `json:"role"`
	JobTitle      string     `json:"jobTitle"`
	City          string     `json:"city"`
	Bio           string     `json:"bio"`
	ExpertiseTags []string   `json:"expertiseTags"`
	Avatar        *string    `json:"avatar"`
	Organization  OrgSummary `json:"organization"`
	IsActive      bool       `json:"isActive"`
	CreatedAt     time.Time  `json:"createdAt"`
	Visibility    string     `json:"profileVisibility"`
	Colleague     bool       `json:"isColleague"`
	// CanMessage: the viewer may start a conversation with the user (CanMessage), so the client
	// knows whether to offer it.
	CanMessage bool       `json:"canMessage"`
	LastSeen   *time.Time `json:"lastSeen,omitempty"`
}

// OrgSummary names an organization next to its members' words.
type OrgSummary struct {
	ID   string  `json:"id"`
	Name string  `json:"name"`
	Logo *string `json:"logo"`
}

// PublicProfileOf returns the profile of userID as the principal may see it. A profile hidden
// from the principal answers not found, like one that does not exist.
func (s *Service) PublicProfileOf(ctx context.Context, p Principal, userID string) (PublicProfile, error) {
	if err := notFoundUnlessID(userID, "user"); err != nil {
		return PublicProfile{}, err
	}
	// The rule first, on the same few columns for a hidden user as for an unknown one; the
	// profile is loaded only once it may be shown.
	viewer, users, err := s.parties(ctx, p, []string{userID})
	if err != nil {
		return PublicProfile{}, err
	}
	subject, ok := users[userID]
	if !ok || !CanSeeProfile(viewer, subject) {
		return PublicProfile{}, errs.E(errs.NotFound, "no such user")
	}
	acc, err := s.d.Store.Account(ctx, userID)
	if err != nil {
		return PublicProfile{}, err
	}
	u, o := acc.User, acc.Organization
	colleague := o.ID == p.OrganizationID
	pp := PublicProfile{
		ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Role: u.Role, JobTitle: u.JobTitle,
		City: u.City, Bio: u.Bio, ExpertiseTags: u.ExpertiseTags, Avatar: u.Avatar,
		Organization: OrgSummary{ID: o.ID, Name: o.Name, Logo: o.Logo},
		IsActive:     u.IsActive, CreatedAt: u.CreatedAt, Visibility: u.ProfileVisibility, Colleague: colleague,
		CanMessage: CanMessage(viewer, subject),
	}
	if colleague {
		email := u.Email
		pp.Email = &email
		pp.LastSeen = u.LastSeen
	}
	return pp, nil
}
