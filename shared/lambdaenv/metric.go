package lambdaenv

import "time"

// MetricNamespace is the CloudWatch namespace of the service's metrics
// (the template's dashboard and alarms read it).
const MetricNamespace = "jit"

// Metric returns the log attributes that make one log line a CloudWatch
// metric data point in the embedded metric format: the _aws block naming
// the metric, and the value under the metric's name. Lambda's log group
// turns the line into the point; nothing else is sent. Append them to a
// slog call's attributes:
//
//	log.InfoContext(ctx, "granted", append([]any{"request", id}, lambdaenv.Metric("GrantSeconds", "Seconds", s, now)...)...)
//
// See "Specification: Embedded metric format" in the CloudWatch User Guide.
func Metric(name, unit string, value float64, at time.Time) []any {
	return []any{
		"_aws", map[string]any{"Timestamp": at.UnixMilli(), "CloudWatchMetrics": []map[string]any{{
			"Namespace": MetricNamespace, "Dimensions": [][]string{{}},
			"Metrics": []map[string]string{{"Name": name, "Unit": unit}},
		}}},
		name, value,
	}
}
