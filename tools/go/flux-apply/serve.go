package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

const (
	// concurrentSSA is kustomize-controller's --concurrent-ssa default (4).
	concurrentSSA = 4
	// healthInterval is how often a health check polls (kustomize-controller: 5 s);
	// stageInterval how often the staged apply polls for its CRDs and Namespaces to be
	// ready before the next stage (fluxcd/pkg/ssa's default: 2 s). Shorter here so that a
	// simulation does not sleep; they change when a wait returns, not what it decides.
	healthInterval = 500 * time.Millisecond
	stageInterval  = 250 * time.Millisecond
)

// message is one line of `flux-apply serve`'s standard input: a request with its ID, or
// {"cancel": ID} to end that request where it is (its response then says cancelled).
type message struct {
	ID     int `json:"id"`
	Cancel int `json:"cancel,omitempty"`
	Request
}

// served is one line of `flux-apply serve`'s standard output: the response to request ID.
type served struct {
	ID int `json:"id"`
	Response
	// Error: the request could not be processed (its objects do not parse, say).
	Error string `json:"error,omitempty"`
	// Cancelled: a cancel for this request came before it ended.
	Cancelled bool `json:"cancelled,omitempty"`
}

// serveCommand answers requests, one JSON line each, one at a time in the order they
// come, on one session to the cluster, until standard input ends.
func serveCommand(kubeconfig string, in io.Reader, out io.Writer) error {
	s, err := newSession(kubeconfig)
	if err != nil {
		return err
	}
	var (
		mu        sync.Mutex
		cancels   = map[int]context.CancelFunc{}
		cancelled = map[int]bool{}
	)
	work := make(chan message, 64)
	readErr := make(chan error, 1)
	go func() {
		defer close(work)
		reader := bufio.NewReaderSize(in, 1<<20)
		for {
			line, err := reader.ReadBytes('\n')
			if len(line) > 0 {
				var m message
				if jsonErr := json.Unmarshal(line, &m); jsonErr != nil {
					readErr <- fmt.Errorf("reading a request: %w", jsonErr)
					return
				}
				if m.Cancel != 0 {
					mu.Lock()
					cancelled[m.Cancel] = true
					if cancel := cancels[m.Cancel]; cancel != nil {
						cancel()
					}
					mu.Unlock()
					continue
				}
				work <- m
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					readErr <- err
				}
				return
			}
		}
	}()
	encoder := json.NewEncoder(out)
	for m := range work {
		ctx, cancel := context.WithCancel(context.Background())
		mu.Lock()
		cancels[m.ID] = cancel
		if cancelled[m.ID] {
			cancel()
		}
		mu.Unlock()
		resp, err := s.handle(ctx, m.Request)
		mu.Lock()
		delete(cancels, m.ID)
		answer := served{ID: m.ID, Response: resp, Cancelled: cancelled[m.ID]}
		delete(cancelled, m.ID)
		mu.Unlock()
		cancel()
		if err != nil {
			answer.Error = err.Error()
		}
		if err := encoder.Encode(answer); err != nil {
			return err
		}
	}
	select {
	case err := <-readErr:
		return err
	default:
		return nil
	}
}
