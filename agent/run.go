package agent

import (
	"context"
	"fmt"

	"github.com/wsgate/wsgate/tunnel"
)

// Run keeps a tunnel to the gateway up (tunnel.Run, with HandleStream as
// the stream handler) until ctx ends (it returns ctx's error) or the agent
// is closed (ErrClosed); an invalid tc is returned at once. Streams still
// being served when it returns end with the tunnel; Close waits for them.
func (a *Agent) Run(ctx context.Context, tc tunnel.ClientConfig) error {
	if a.ctx.Err() != nil {
		return ErrClosed
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(a.ctx, cancel)
	defer stop()
	tc.Handler = a.HandleStream
	if tc.Logger == nil {
		tc.Logger = a.log
	} else {
		// Tunnel events (connects, retries) belong in the agent's logs too.
		tc.Logger = a.logs.teeLogger(tc.Logger)
	}
	err := tunnel.Run(runCtx, tc)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case a.ctx.Err() != nil:
		return ErrClosed
	}
	return fmt.Errorf("agent tunnel: %w", err)
}
