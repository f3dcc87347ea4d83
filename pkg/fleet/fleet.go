// Package fleet runs one piece of work per cluster, a bounded number at a
// time, each under a time limit of its own, so that a slow or dead cluster
// delays only itself.
package fleet

import (
	"context"
	"sync"
	"time"
)

// Run calls work for each of n items, at most parallel at once, each with
// a context that ends after limit (or with ctx), and returns the results in
// the items' order. When ctx ends (Ctrl-C), the work under way sees it at
// once and the items not started yet are still called, with the ended
// context, so that each says for itself that it was interrupted.
func Run[T any](ctx context.Context, n, parallel int, limit time.Duration, work func(ctx context.Context, i int) T) []T {
	results := make([]T, n)
	slots := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
			case <-ctx.Done():
			}
			itemCtx, cancel := context.WithTimeout(ctx, limit)
			defer cancel()
			results[i] = work(itemCtx, i)
		}()
	}
	wg.Wait()
	return results
}
