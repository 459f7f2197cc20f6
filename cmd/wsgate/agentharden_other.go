//go:build !linux

package main

import "os"

// hardenAgent has nothing portable to do outside Linux.
func hardenAgent() error { return nil }

var selfExe, _ = os.Executable()
