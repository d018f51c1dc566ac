package lambdaenv

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"
)

// A metric line is what CloudWatch's embedded metric format needs: the
// _aws block names a metric whose value is a top-level member.
func TestMetricIsEmbeddedMetricFormat(t *testing.T) {
	var b bytes.Buffer
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	slog.New(slog.NewJSONHandler(&b, nil)).Info("granted", Metric("GrantSeconds", "Seconds", 2.5, at)...)
	var line struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		GrantSeconds float64
	}
	if err := json.Unmarshal(b.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	m := line.AWS.CloudWatchMetrics
	if line.AWS.Timestamp != at.UnixMilli() || len(m) != 1 || m[0].Namespace != "jit" || len(m[0].Dimensions) != 1 ||
		m[0].Metrics[0].Name != "GrantSeconds" || m[0].Metrics[0].Unit != "Seconds" || line.GrantSeconds != 2.5 {
		t.Errorf("line = %s", b.String())
	}
}
