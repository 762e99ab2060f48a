package watchdog

import (
	"context"
	"sync"
	"time"
)

// Closers ends a component from n goroutines at once, as the Close and
// Shutdown race tests of sink and uds do: call i%3 == 0 is close(), 1 is
// shutdown with a context that ends after bound, 2 is shutdown with a
// context already done. The returned wait blocks until every call has
// returned, and returns their results in call order.
func Closers(n int, close func() error, shutdown func(context.Context) error, bound time.Duration) (wait func() []error) {
	results := make([]error, n)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			switch i % 3 {
			case 0:
				results[i] = close()
			case 1:
				ctx, cancel := context.WithTimeout(context.Background(), bound)
				defer cancel()
				results[i] = shutdown(ctx)
			default:
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				results[i] = shutdown(ctx)
			}
		})
	}
	return func() []error { wg.Wait(); return results }
}
