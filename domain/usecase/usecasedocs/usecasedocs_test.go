package usecasedocs_test

import (
	"testing"

	"github.com/p2psandbox/hub/domain/usecase"
	"github.com/p2psandbox/hub/domain/usecase/usecasedocs"
	"github.com/p2psandbox/hub/domain/usecase/usecasetest"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestContract: the document-store contract on PostgreSQL, a migrated database per case.
func TestContract(t *testing.T) {
	usecasetest.Contract(t, func(t *testing.T) usecase.Documents {
		pool, _ := pgtest.New(t)
		return usecasedocs.New(pool)
	})
}
