package httpapi

import (
	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/tunnel/control"
)

// AgentStats is control.Stats.
//
// Deprecated: temporary alias for files being moved; use control.Stats.
type AgentStats = control.Stats

// Connection is apitypes.Connection.
//
// Deprecated: temporary alias for files being moved; use apitypes.Connection.
type Connection = apitypes.Connection

// Error is apitypes.Error.
//
// Deprecated: temporary alias for files being moved; use apitypes.Error.
type Error = apitypes.Error
