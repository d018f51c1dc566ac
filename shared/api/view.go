package api

import "github.com/jitaccess/jit/shared/access"

// listView is a page of the caller's requests.
type listView struct {
	Requests   []access.View `json:"requests"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

// view is a request as the API answers it.
func view(r *access.Request, history []access.Event) access.View { return r.View(history) }
