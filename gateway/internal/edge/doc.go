// Package edge is what the gateway needs at its network edge: the proxies it
// trusts (Proxies), the client's address and original scheme behind an HTTP
// proxy (Forwarded, Secure, Scheme), TLS served from a certificate pair that
// is reloaded while serving (Certificate), and the PROXY protocol from a TCP
// load balancer on the SSH port (ProxyProtocol).
//
// Wiring, in short:
//
//	proxies, err := edge.ParseProxies(flagTrustedProxies)
//	cert, err := edge.LoadCertificate(certFile, keyFile, log)
//	go cert.Watch(ctx, time.Minute)
//	httpLn = tls.NewListener(httpLn, cert.TLSConfig())
//	srv := &http.Server{Handler: edge.Forwarded(proxies, mux)}
//	go srv.Serve(httpLn)
//	sshLn = edge.ProxyProtocol(sshLn, proxies, 5*time.Second)
//
// and handlers ask edge.Secure(r) to decide whether a cookie is Secure.
//
// It imports only the standard library and go-proxyproto, so any part of the
// gateway may use it.
package edge
