package gateway

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsHandler serves the replica's metrics.
func metricsHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// buildMetricsServer makes the server of ServerConfig.MetricsListener: GET
// /metrics only. The metrics name users, workspaces and rates: they are
// for the operator, not for everyone who reaches the public port.
func (s *Server) buildMetricsServer(reg *prometheus.Registry) {
	if s.cfg.MetricsListener == nil {
		return
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metricsHandler(reg))
	s.metricsSrv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       30 * time.Second,
		ErrorLog:          httpErrorLog(s.cfg.Logger),
	}
}

// shutdownMetrics stops the metrics server, if there is one.
func (s *Server) shutdownMetrics(ctx context.Context) error {
	if s.metricsSrv == nil {
		return nil
	}
	return s.metricsSrv.Shutdown(ctx)
}
