package bench

import (
	"math"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	tests := []struct {
		name    string
		samples []float64
		p       float64
		want    float64
	}{
		{"empty", nil, 50, 0},
		{"one", []float64{7}, 99, 7},
		{"median odd", []float64{3, 1, 2}, 50, 2},
		{"median even interpolates", []float64{4, 1, 3, 2}, 50, 2.5},
		{"min", []float64{5, 9, 1}, 0, 1},
		{"max", []float64{5, 9, 1}, 100, 9},
		{"below range clamps", []float64{5, 9, 1}, -1, 1},
		{"above range clamps", []float64{5, 9, 1}, 101, 9},
		// 1..100: rank 0.99*99 = 98.01 -> 99 + 0.01*(100-99)
		{"p99 of 1..100", seq(100), 99, 99.01},
		{"p90 of 1..11", seq(11), 90, 10},
		{"duplicates", []float64{2, 2, 2, 2}, 99, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.samples, tt.p); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.samples, tt.p, got, tt.want)
			}
		})
	}
}

func TestPercentileLeavesInputAlone(t *testing.T) {
	s := []float64{3, 1, 2}
	percentile(s, 50)
	if s[0] != 3 || s[1] != 1 || s[2] != 2 {
		t.Fatalf("input reordered: %v", s)
	}
}

func TestSummarize(t *testing.T) {
	got := summarize(ms([]time.Duration{time.Millisecond, 3 * time.Millisecond, 2 * time.Millisecond}), "ms")
	want := Summary{Unit: "ms", N: 3, Median: 2, P99: 2.98, Min: 1, Max: 3, Mean: 2}
	if got != want {
		t.Fatalf("summarize = %+v, want %+v", got, want)
	}
	if z := summarize(nil, "ms"); z.N != 0 || z.Unit != "ms" {
		t.Fatalf("empty summary = %+v", z)
	}
}

func seq(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = float64(i + 1)
	}
	return s
}
