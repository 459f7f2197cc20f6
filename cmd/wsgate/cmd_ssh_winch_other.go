//go:build !unix

package main

// watchWindow: without SIGWINCH the remote terminal keeps its first size.
func watchWindow(func()) (stop func()) { return func() {} }
