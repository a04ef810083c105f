package bus

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// BenchmarkBatchLatency measures publish-to-handled latency of a batch
// consumer fed a steady trickle (a message every 5ms, as a pipeline's
// store sees records), and reports its p50 and p95.
func BenchmarkBatchLatency(b *testing.B) {
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: b.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		b.Fatal(err)
	}
	s.Start()
	defer s.Shutdown()
	if !s.ReadyForConnections(10 * time.Second) {
		b.Fatal("nats server did not start")
	}
	bus, err := Connect(b.Context(), Options{URL: s.ClientURL(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer bus.Close()
	var mu sync.Mutex
	var lat []time.Duration
	ctx, cancel := context.WithCancel(b.Context())
	done := make(chan error, 1)
	go func() {
		done <- bus.ConsumeBatch(ctx, ConsumerOptions{Stream: StreamArticles, Consumer: "bench"}, func(_ context.Context, ms []Msg) error {
			now := time.Now()
			mu.Lock()
			defer mu.Unlock()
			for _, m := range ms {
				ns, _ := strconv.ParseInt(string(m.Data), 10, 64)
				lat = append(lat, now.Sub(time.Unix(0, ns)))
			}
			return nil
		})
	}()
	n := max(b.N, 200)
	b.ResetTimer()
	for i := range n {
		data := []byte(strconv.FormatInt(time.Now().UnixNano(), 10))
		if err := bus.Publish(b.Context(), ArticleSubject("bench"), strconv.Itoa(i), data); err != nil {
			b.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for {
		mu.Lock()
		got := len(lat)
		mu.Unlock()
		if got == n {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.StopTimer()
	cancel()
	<-done
	slices.Sort(lat)
	b.ReportMetric(float64(lat[n/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[n*95/100].Microseconds())/1000, "p95-ms")
}
