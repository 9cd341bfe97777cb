package activitydb_test

import (
	"strconv"
	"strings"

	"github.com/p2psandbox/hub/domain/page"
)

func itoa(i int) string           { return strconv.Itoa(i) }
func contains(s, sub string) bool { return strings.Contains(s, sub) }
func cursorAt(id int64) string    { return page.Encode(map[string]int64{"i": id}) }
