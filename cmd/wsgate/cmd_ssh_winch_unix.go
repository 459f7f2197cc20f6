//go:build unix

package main

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// watchWindow calls onChange on every SIGWINCH (the terminal was resized)
// until the returned func is called.
func watchWindow(onChange func()) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGWINCH)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ch:
				onChange()
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			wg.Wait()
		})
	}
}
