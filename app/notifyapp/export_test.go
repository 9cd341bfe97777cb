package notifyapp

import "github.com/p2psandbox/hub/domain/event"

// AfterCommit is the Publisher Register gives the service, over p.
func AfterCommit(p event.Publisher) event.Publisher { return afterCommit{p} }
