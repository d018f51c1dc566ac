package bench

import (
	"math"
	"slices"
	"time"
)

// percentile returns the p-th percentile (0..100) of samples by linear
// interpolation between the closest ranks (the "R-7" method, as numpy's
// default): p=50 is the median, p=0 the minimum and p=100 the maximum. It
// returns 0 for no samples and does not modify samples.
func percentile(samples []float64, p float64) float64 {
	if len(samples) == 0 {
		return 0
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	return sortedPercentile(s, p)
}

func sortedPercentile(s []float64, p float64) float64 {
	switch {
	case p <= 0:
		return s[0]
	case p >= 100:
		return s[len(s)-1]
	}
	rank := p / 100 * float64(len(s)-1)
	lo := int(math.Floor(rank))
	hi := min(lo+1, len(s)-1)
	frac := rank - float64(lo)
	return s[lo] + (s[hi]-s[lo])*frac
}

// Summary describes one figure's samples, in milliseconds unless Unit
// says otherwise.
type Summary struct {
	Unit   string  `json:"unit"`
	N      int     `json:"n"`
	Median float64 `json:"median"`
	P99    float64 `json:"p99"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Mean   float64 `json:"mean"`
}

// summarize computes a Summary; unit labels the values (e.g. "ms").
func summarize(samples []float64, unit string) Summary {
	if len(samples) == 0 {
		return Summary{Unit: unit}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	var sum float64
	for _, v := range s {
		sum += v
	}
	return Summary{
		Unit: unit, N: len(s),
		Median: round3(sortedPercentile(s, 50)), P99: round3(sortedPercentile(s, 99)),
		Min: round3(s[0]), Max: round3(s[len(s)-1]), Mean: round3(sum / float64(len(s))),
	}
}

// ms converts durations to float milliseconds.
func ms(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d) / float64(time.Millisecond)
	}
	return out
}

func msOf(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
