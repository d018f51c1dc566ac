package access

import "context"

// Origin is where an HTTP call came from, as the gateway saw it. Handlers
// put it in the context of the call; the store copies it onto every event
// the call writes.
type Origin struct {
	SourceIP  string
	UserAgent string
}

type originKey struct{}

// WithOrigin returns ctx carrying o.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginOf returns the origin ctx carries, or the zero Origin.
func OriginOf(ctx context.Context) Origin {
	o, _ := ctx.Value(originKey{}).(Origin)
	return o
}
