package fleet

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// No more than parallel items run at once, and every item runs.
func TestRunBoundsTheItemsAtOnce(t *testing.T) {
	var running, most atomic.Int32
	results := Run(context.Background(), 20, 3, time.Minute, func(ctx context.Context, i int) int {
		now := running.Add(1)
		for {
			m := most.Load()
			if now <= m || most.CompareAndSwap(m, now) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		running.Add(-1)
		return i * 2
	})
	if most.Load() > 3 {
		t.Errorf("%d items ran at once, bound 3", most.Load())
	}
	for i, r := range results {
		if r != i*2 {
			t.Errorf("result %d = %d, want %d (results out of order?)", i, r, i*2)
		}
	}
}

// An item that never finishes by itself ends at its limit with
// DeadlineExceeded; the others finish with their own results.
func TestRunEndsAnItemAtItsLimit(t *testing.T) {
	results := Run(context.Background(), 3, 3, 50*time.Millisecond, func(ctx context.Context, i int) error {
		if i == 1 {
			<-ctx.Done()
			return ctx.Err()
		}
		if _, ok := ctx.Deadline(); !ok {
			return errors.New("no deadline")
		}
		return nil
	})
	if !errors.Is(results[1], context.DeadlineExceeded) {
		t.Errorf("the hung item ended with %v, want DeadlineExceeded", results[1])
	}
	if results[0] != nil || results[2] != nil {
		t.Errorf("the other items: %v, %v", results[0], results[2])
	}
}

// Cancelling (Ctrl-C) ends the item under way and those not started yet
// with Canceled, and keeps the result of the one that finished.
func TestRunStopsEveryItemWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var started atomic.Int32
	results := Run(ctx, 3, 1, time.Minute, func(ctx context.Context, i int) error {
		switch started.Add(1) {
		case 1:
			return nil
		case 2:
			cancel()
		}
		<-ctx.Done()
		return ctx.Err()
	})
	var finished, cancelled int
	for _, r := range results {
		switch {
		case r == nil:
			finished++
		case errors.Is(r, context.Canceled):
			cancelled++
		}
	}
	if finished != 1 || cancelled != 2 {
		t.Errorf("results %v: want 1 finished and 2 cancelled", results)
	}
}
