package acl

import "context"

type actorKey struct{}

// WithActor returns a context that names user as the one making the writes
// done with it. Stores copy the name into the events of those writes
// (Event.Actor), so that consumers can say who acted ("stopped by alice").
func WithActor(ctx context.Context, user string) context.Context {
	return context.WithValue(ctx, actorKey{}, user)
}

// ActorFrom returns the user WithActor put in ctx, or "".
func ActorFrom(ctx context.Context) string {
	s, _ := ctx.Value(actorKey{}).(string)
	return s
}
