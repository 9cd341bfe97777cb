package usecase

import "context"

// Documents keeps the document body of use cases (their Content) in a store of its own: MongoDB
// for operators who run it (usecasemongo), or a PostgreSQL table (usecasedocs). The relational
// part of a use case (ids, ownership, status, counters, search rows) stays in PostgreSQL, the
// system of record; this interface holds only what cannot be queried there anyway.
//
// Its shape follows from writing to two stores without a transaction spanning them:
//   - Put is keyed by the use case's version, which the relational row owns. The relational
//     change commits first, then the document is Put; when a crash falls between the two, the
//     retried write repeats the Put with the same version and heals the document. A version at or
//     below the stored one changes nothing, so a late or repeated Put never takes a document back
//     in time, and concurrent writers need no lock: the highest version wins.
//   - Put takes no expected version and answers no ErrStale: the optimistic check of an edit is
//     made once, on the relational row, and a second check here could only disagree with it.
//   - Many serves the lists (a library page needs a page of bodies in one round trip); ids with no
//     document are left out of its map rather than failing the page.
//   - Delete is idempotent for the same reason Put is: it is repeated on retry.
//
// A Put after a Delete of the same id stores the document again: delete the document only once
// the relational row is gone, so that no retried write still Puts it.
type Documents interface {
	// Put stores c as version of use case id; a version at or below the stored one changes
	// nothing (so a retried write after a crash heals without going back in time).
	Put(ctx context.Context, id string, version int, c Content) error
	// Get returns the document of id and its version; errs.NotFound when absent.
	Get(ctx context.Context, id string) (Content, int, error)
	// Many returns the documents of ids that exist, by id.
	Many(ctx context.Context, ids []string) (map[string]Content, error)
	// Delete removes the document of id; absent is not an error.
	Delete(ctx context.Context, id string) error
}

// Limits every stored document obeys, whatever its status, for stores that check documents
// themselves (MongoDB's $jsonSchema validator). They are autosave's limits, not those of the
// form's steps: a draft holds a title of any length up to MaxFieldChars and any category, since
// CheckStep holds the title to 10-100 characters and the category to Categories only when the use
// case is submitted. A store refusing a draft the service accepted would fail an autosave.
const (
	MaxFieldChars = maxText  // characters of any one string field
	MaxListItems  = maxItems // items of any one list
)

// Project is the part of c that PostgreSQL keeps in use_cases.document when the documents live in
// a Documents store: what the relational side reads there and nothing else. The readers are the
// search vector (title, factoryName, tags, description: migrations 00015 and 00024), the
// technology keys (tags and technologyComponents[].component: 00033), the map's points (title,
// description, factoryName, category, location, implementationTime, quantitativeMetrics,
// roiPercentage, contactPerson, contactTitle: 00031), the library's cards and related use cases
// (usecasedb's summary and Summarize: subtitle, industry, imageIds besides), the facets (category,
// industry) and the store's own columns (city, region, roi). The rest (the challenge, the
// solution's details, the lessons, the money) is read only with the whole document, by Get.
//
// Lists are kept nil or empty as c has them, so that a projection read back shows [] where the
// document does.
func Project(c Content) Content {
	p := Content{
		Title: c.Title, Subtitle: c.Subtitle, Description: c.Description, Category: c.Category,
		Industry: c.Industry, FactoryName: c.FactoryName, Tags: c.Tags, ImageIDs: c.ImageIDs,
		Location: c.Location, ContactPerson: c.ContactPerson, ContactTitle: c.ContactTitle,
		Implementation: Implementation{ImplementationTime: c.Implementation.ImplementationTime},
		Results:        Results{RoiPercentage: c.Results.RoiPercentage, QuantitativeMetrics: c.Results.QuantitativeMetrics},
	}
	if c.Solution.TechnologyComponents != nil {
		// The names only: the technology filter reads them, and a component's details are prose.
		p.Solution.TechnologyComponents = make([]Component, len(c.Solution.TechnologyComponents))
		for i, x := range c.Solution.TechnologyComponents {
			p.Solution.TechnologyComponents[i] = Component{Component: x.Component}
		}
	}
	return p
}
