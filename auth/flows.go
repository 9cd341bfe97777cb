package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/supertokens/supertokens-golang/ingredients/emaildelivery"
	"github.com/supertokens/supertokens-golang/recipe/emailpassword/epmodels"
	eperrors "github.com/supertokens/supertokens-golang/recipe/emailpassword/errors"
	"github.com/supertokens/supertokens-golang/recipe/emailverification"
	"github.com/supertokens/supertokens-golang/recipe/session"
	"github.com/supertokens/supertokens-golang/recipe/session/sessmodels"
	"github.com/supertokens/supertokens-golang/recipe/userroles"
	"github.com/supertokens/supertokens-golang/supertokens"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/platform/mail"
)

// Keys the overrides use to talk to each other through the SDK's userContext.
const (
	signUpKey   = "p2p.signup"
	inactiveKey = "p2p.inactive"
)

// fieldLabels turn a field id into the start of a sentence for the SDK's field errors, which the
// frontend shows under the input on its own.
var fieldLabels = map[string]string{
	"email": "Email", "password": "Password", "firstName": "First name", "lastName": "Last name",
	"organizationName": "Organization name", "industry": "Industry", "organizationSize": "Organization size",
	"country": "Country", "city": "City", "languagePreference": "Language", "invitationToken": "Invitation",
}

// signUpFormFields declares the fields to the SDK with the identity domain's rule for each, so the
// SDK reports every bad field at once. The same password rule guards the reset form. Rules that
// span fields (the city depends on the country, the password must not be the email) run in the
// sign-up override.
func signUpFormFields() []epmodels.TypeInputFormField {
	optional := true
	field := func(id string, rule func(string) string, opt bool) epmodels.TypeInputFormField {
		f := epmodels.TypeInputFormField{ID: id, Validate: func(v interface{}, _ string) *string {
			s, ok := v.(string)
			msg := fieldLabels[id] + " must be text"
			if ok {
				if m := rule(strings.TrimSpace(s)); m != "" {
					msg = fieldLabels[id] + " " + m
				} else {
					return nil
				}
			}
			return &msg
		}}
		if opt {
			f.Optional = &optional
		}
		return f
	}
	name := func(lo, hi int) func(string) string {
		return func(s string) string { return identity.ValidateName(s, lo, hi) }
	}
	oneOf := func(list []string) func(string) string {
		return func(s string) string { return identity.OneOf(s, list) }
	}
	// The organization's fields are optional here because an invited sign-up has none; the
	// override requires them of everyone else.
	return []epmodels.TypeInputFormField{
		// The sign-in and reset forms reuse this validator (the SDK copies the email field), so an
		// address with invisible characters is refused there too.
		field("email", func(s string) string { _, msg := identity.CheckEmail(s); return msg }, false),
		field("password", func(s string) string { return identity.ValidatePassword(s, "") }, false),
		field("firstName", name(1, 50), false),
		field("lastName", name(1, 50), false),
		field("organizationName", name(2, 100), true),
		field("industry", oneOf(identity.Industries), true),
		field("organizationSize", oneOf(identity.OrganizationSizes), true),
		field("city", name(2, 50), true),
		field("country", name(2, 56), true),
		field("languagePreference", oneOf(identity.Languages), true),
		field("invitationToken", func(string) string { return "" }, true),
	}
}

// parseSignUp reads the SDK-validated form into the domain's sign-up and applies the rules that
// span fields.
func parseSignUp(fields []epmodels.TypeFormField) (identity.SignUp, error) {
	values := map[string]string{}
	for _, f := range fields {
		values[f.ID], _ = f.Value.(string)
	}
	su := identity.SignUp{
		Email:              values["email"],
		FirstName:          values["firstName"],
		LastName:           values["lastName"],
		OrganizationName:   values["organizationName"],
		Industry:           values["industry"],
		OrganizationSize:   values["organizationSize"],
		Country:            values["country"],
		City:               values["city"],
		LanguagePreference: values["languagePreference"],
		InvitationToken:    values["invitationToken"],
	}
	su.Normalize()
	var bad []eperrors.ErrorPayload
	for _, fe := range su.Validate() {
		bad = append(bad, eperrors.ErrorPayload{ID: fe.Field, ErrorMsg: fieldLabels[fe.Field] + " " + fe.Message})
	}
	if msg := identity.ValidatePassword(values["password"], su.Email); msg != "" {
		bad = append(bad, eperrors.ErrorPayload{ID: "password", ErrorMsg: "Password " + msg})
	}
	if len(bad) > 0 {
		return su, eperrors.FieldError{Msg: "Error in input formFields", Payload: bad}
	}
	return su, nil
}

// normalEmail gives the form's email field its normal form (identity.NormalizeEmail), so that
// the core stores and looks up one spelling of an address; the SDK only trims it, and the core
// lower-cases it. The field validator has refused what cannot be normalised.
func normalEmail(fields []epmodels.TypeFormField) []epmodels.TypeFormField {
	out := make([]epmodels.TypeFormField, len(fields))
	for i, f := range fields {
		if s, ok := f.Value.(string); ok && f.ID == "email" {
			if email, msg := identity.CheckEmail(s); msg == "" {
				f.Value = email
			}
		}
		out[i] = f
	}
	return out
}

// signUpMailKey is the request context key under which the /auth/signup route leaves a flag for
// the sign-up override to raise once the verification mail is queued: the route then counts that
// mail against the resend limit.
type signUpMailKey struct{}

func noteSignUpMail(ctx context.Context) {
	if sent, ok := ctx.Value(signUpMailKey{}).(*bool); ok {
		*sent = true
	}
}

func (a *Auth) overrideEmailPasswordAPIs(orig epmodels.APIInterface) epmodels.APIInterface {
	origSignUp, origSignIn, origReset := *orig.SignUpPOST, *orig.SignInPOST, *orig.PasswordResetPOST
	origResetToken, origExists := *orig.GeneratePasswordResetTokenPOST, *orig.EmailExistsGET

	signUp := func(fields []epmodels.TypeFormField, tenantID string, opts epmodels.APIOptions, uc supertokens.UserContext) (epmodels.SignUpPOSTResponse, error) {
		fields = normalEmail(fields)
		su, err := parseSignUp(fields)
		if err != nil {
			return epmodels.SignUpPOSTResponse{}, err
		}
		ctx := opts.Req.Context()
		withContext(uc, ctx)
		if su.InvitationToken != "" {
			// Check the invitation before the core creates credentials that would have to go again.
			inv, err := a.accounts.LookupInvitation(ctx, su.InvitationToken)
			if err != nil {
				return domainAnswer(err)
			}
			if inv.Email != su.Email {
				return epmodels.SignUpPOSTResponse{}, eperrors.FieldError{Msg: "Error in input formFields", Payload: []eperrors.ErrorPayload{
					{ID: "email", ErrorMsg: "Email must be the invited address, " + inv.Email}}}
			}
		}
		(*uc)[signUpKey] = su
		res, err := origSignUp(fields, tenantID, opts, uc)
		if err != nil {
			if _, ok := errs.As(err); ok {
				return domainAnswer(err)
			}
			return res, err
		}
		if res.OK == nil || su.InvitationToken != "" {
			return res, nil // invitees proved their address by opening the link
		}
		// The account exists now; a verification mail that fails to queue can be re-sent.
		user := res.OK.User
		sent, err := emailverification.SendEmailVerificationEmail(tenantID, user.ID, &user.Email, uc)
		switch {
		case err != nil:
			a.log.ErrorContext(ctx, "sending the verification mail after sign-up", "user", user.ID, "err", err)
		case sent.OK != nil:
			noteSignUpMail(ctx)
		}
		return res, nil
	}

	signIn := func(fields []epmodels.TypeFormField, tenantID string, opts epmodels.APIOptions, uc supertokens.UserContext) (epmodels.SignInPOSTResponse, error) {
		ctx := opts.Req.Context()
		withContext(uc, ctx)
		res, err := origSignIn(normalEmail(fields), tenantID, opts, uc)
		if err != nil {
			return res, err
		}
		if res.WrongCredentialsError != nil && (*uc)[inactiveKey] == true {
			return epmodels.SignInPOSTResponse{GeneralError: &supertokens.GeneralErrorResponse{
				Message: "This account has been deactivated. Ask an admin of your organization to reactivate it.",
			}}, nil
		}
		if res.OK != nil {
			if err := a.accounts.RecordSignIn(ctx, res.OK.User.ID); err != nil {
				a.log.WarnContext(ctx, "recording sign-in", "user", res.OK.User.ID, "err", err)
			}
		}
		return res, nil
	}

	reset := func(fields []epmodels.TypeFormField, token, tenantID string, opts epmodels.APIOptions, uc supertokens.UserContext) (epmodels.ResetPasswordPOSTResponse, error) {
		res, err := origReset(fields, token, tenantID, opts, uc)
		if err != nil || res.OK == nil {
			return res, err
		}
		if res.OK.UserId == nil {
			return res, errors.New("auth: the core did not say whose password was reset, so their sessions cannot be revoked")
		}
		// Whoever knew the old password is signed out too.
		if _, err := session.RevokeAllSessionsForUser(*res.OK.UserId, nil, uc); err != nil {
			return res, fmt.Errorf("auth: revoking sessions after a password reset: %w", err)
		}
		return res, nil
	}

	resetToken := func(fields []epmodels.TypeFormField, tenantID string, opts epmodels.APIOptions, uc supertokens.UserContext) (epmodels.GeneratePasswordResetTokenPOSTResponse, error) {
		return origResetToken(normalEmail(fields), tenantID, opts, uc)
	}

	// exists answers for the normal form of the address; one that cannot be normalised cannot
	// sign up either, so it does not exist (and the core is not asked about it).
	exists := func(email, tenantID string, opts epmodels.APIOptions, uc supertokens.UserContext) (epmodels.EmailExistsGETResponse, error) {
		normal, msg := identity.CheckEmail(email)
		if msg != "" {
			return epmodels.EmailExistsGETResponse{OK: &struct{ Exists bool }{Exists: false}}, nil
		}
		return origExists(normal, tenantID, opts, uc)
	}

	orig.SignUpPOST, orig.SignInPOST, orig.PasswordResetPOST = &signUp, &signIn, &reset
	orig.GeneratePasswordResetTokenPOST, orig.EmailExistsGET = &resetToken, &exists
	return orig
}

func (a *Auth) overrideEmailPasswordFunctions(orig epmodels.RecipeInterface) epmodels.RecipeInterface {
	origSignUp, origSignIn := *orig.SignUp, *orig.SignIn

	// signUp runs once the core holds the credentials: it writes the organization and its owner,
	// then gives the owner the admin role. Any failure undoes everything, the core's user included.
	signUp := func(email, password, tenantID string, uc supertokens.UserContext) (epmodels.SignUpResponse, error) {
		su, ok := (*uc)[signUpKey].(identity.SignUp)
		if !ok {
			return epmodels.SignUpResponse{}, errors.New("auth: sign-up without the organization form")
		}
		res, err := origSignUp(email, password, tenantID, uc)
		if err != nil || res.OK == nil {
			return res, err
		}
		ctx := contextOf(uc)
		su.UserID, su.Email = res.OK.User.ID, res.OK.User.Email
		undo := func(cause error) (epmodels.SignUpResponse, error) {
			if err := a.accounts.Unregister(ctx, su.UserID); err != nil {
				a.log.ErrorContext(ctx, "undoing a failed sign-up", "user", su.UserID, "err", err)
			}
			if err := supertokens.DeleteUser(su.UserID); err != nil {
				a.log.ErrorContext(ctx, "removing the core user of a failed sign-up", "user", su.UserID, "err", err)
			}
			return epmodels.SignUpResponse{}, cause
		}
		var acc identity.Account
		if su.InvitationToken != "" {
			acc, err = a.accounts.AcceptInvitation(ctx, su.InvitationToken, su)
		} else {
			acc, err = a.accounts.Register(ctx, su)
		}
		if err != nil {
			if e, ok := errs.As(err); ok && e.Code == errs.Validation && len(e.Fields) == 1 && e.Fields[0].Field == "email" &&
				e.Fields[0].Message == "is already registered" {
				// Our copy still holds the address (a user removed from the core only).
				_, cause := undo(nil)
				return epmodels.SignUpResponse{EmailAlreadyExistsError: &struct{}{}}, cause
			}
			if _, ok := errs.As(err); ok {
				return undo(err) // the API override turns it into an answer
			}
			return undo(fmt.Errorf("auth: creating the account: %w", err))
		}
		for _, role := range acc.User.Roles() {
			if _, err := userroles.AddRoleToUser(tenantID, su.UserID, role, uc); err != nil {
				return undo(fmt.Errorf("auth: giving the user the %s role: %w", role, err))
			}
		}
		if su.InvitationToken != "" {
			if err := markVerified(tenantID, su.UserID, su.Email, uc); err != nil {
				return undo(err)
			}
		}
		return res, nil
	}

	// signIn refuses deactivated users with the same answer as a wrong password; the API override
	// then explains, since only the right password reaches this point.
	signIn := func(email, password, tenantID string, uc supertokens.UserContext) (epmodels.SignInResponse, error) {
		res, err := origSignIn(email, password, tenantID, uc)
		if err != nil || res.OK == nil {
			return res, err
		}
		_, active, err := a.accounts.OrganizationOf(contextOf(uc), res.OK.User.ID)
		if err != nil {
			return epmodels.SignInResponse{}, fmt.Errorf("auth: loading the account of %s: %w", res.OK.User.ID, err)
		}
		if !active {
			(*uc)[inactiveKey] = true
			return epmodels.SignInResponse{WrongCredentialsError: &struct{}{}}, nil
		}
		return res, nil
	}

	orig.SignUp, orig.SignIn = &signUp, &signIn
	return orig
}

// domainAnswer turns a domain error from a sign-up into the SDK's answer: field errors under the
// fields, anything else as a general error the form shows.
func domainAnswer(err error) (epmodels.SignUpPOSTResponse, error) {
	e, _ := errs.As(err)
	if e.Code == errs.Validation && len(e.Fields) > 0 {
		var payload []eperrors.ErrorPayload
		for _, f := range e.Fields {
			payload = append(payload, eperrors.ErrorPayload{ID: f.Field, ErrorMsg: fieldLabels[f.Field] + " " + f.Message})
		}
		return epmodels.SignUpPOSTResponse{}, eperrors.FieldError{Msg: "Error in input formFields", Payload: payload}
	}
	msg := e.Message
	if len(msg) > 0 {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	return epmodels.SignUpPOSTResponse{GeneralError: &supertokens.GeneralErrorResponse{Message: msg}}, nil
}

// markVerified confirms an invitee's address in the core: the invitation link reached them there.
func markVerified(tenantID, userID, email string, uc supertokens.UserContext) error {
	res, err := emailverification.CreateEmailVerificationToken(tenantID, userID, &email, uc)
	if err != nil {
		return fmt.Errorf("auth: verifying the invitee's email: %w", err)
	}
	if res.OK == nil {
		return nil // already verified
	}
	if _, err := emailverification.VerifyEmailUsingToken(tenantID, res.OK.Token, uc); err != nil {
		return fmt.Errorf("auth: verifying the invitee's email: %w", err)
	}
	return nil
}

// orgClaim carries the organization id in the access token, so that every request knows its
// tenant without a database read.
const orgClaim = "oid"

func (a *Auth) overrideSessionFunctions(orig sessmodels.RecipeInterface) sessmodels.RecipeInterface {
	origCreate := *orig.CreateNewSession
	create := func(userID string, payload, dbData map[string]interface{}, disableAntiCSRF *bool, tenantID string, uc supertokens.UserContext) (sessmodels.SessionContainer, error) {
		orgID, active, err := a.accounts.OrganizationOf(contextOf(uc), userID)
		if err != nil {
			return nil, fmt.Errorf("auth: session for %s: %w", userID, err)
		}
		if !active {
			return nil, fmt.Errorf("auth: session for deactivated user %s refused", userID)
		}
		if payload == nil {
			payload = map[string]interface{}{}
		}
		payload[orgClaim] = orgID
		return origCreate(userID, payload, dbData, disableAntiCSRF, tenantID, uc)
	}
	orig.CreateNewSession = &create
	return orig
}

func (a *Auth) sendVerificationEmail(input emaildelivery.EmailType, uc supertokens.UserContext) error {
	ev := input.EmailVerification
	if ev == nil {
		return errors.New("auth: verification mailer got another kind of mail")
	}
	return a.sendTo(uc, ev.User.ID, ev.User.Email, "verify_email", ev.EmailVerifyLink)
}

func (a *Auth) sendPasswordResetEmail(input emaildelivery.EmailType, uc supertokens.UserContext) error {
	pr := input.PasswordReset
	if pr == nil {
		return errors.New("auth: password mailer got another kind of mail")
	}
	return a.sendTo(uc, pr.User.ID, pr.User.Email, "reset_password", pr.PasswordResetLink)
}

func (a *Auth) sendTo(uc supertokens.UserContext, userID, email, template, link string) error {
	ctx := contextOf(uc)
	acc, err := a.accounts.Account(ctx, userID)
	name := acc.User.FirstName
	if err != nil || strings.TrimSpace(name) == "" {
		name = strings.Split(email, "@")[0]
	}
	return a.mailer.Send(ctx, mail.Request{
		Template: template,
		Lang:     lang(acc, err),
		To:       email,
		Data:     map[string]string{"FirstName": name, "Link": link},
	})
}
