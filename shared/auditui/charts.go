package auditui

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/audit"
)

// Charts are drawn on the server as inline SVG: no script, nothing
// fetched, so the page keeps its CSP. Each chart is a figure whose SVG is
// an image named by its title and described by a one-sentence summary,
// with the figures it draws in a table beside it, so a screen reader (or
// a phone too narrow to read the axes) loses nothing.

// chart is one figure: either lines over days or horizontal bars.
type chart struct {
	ID, Title, Summary string
	Width, Height      int
	Lines              []series
	Bars               []bar
	XLabels, YLabels   []tick
	// Grid are the y positions of the horizontal grid lines, from X1 to X2.
	Grid   []int
	X1, X2 int
	// Legend says how the lines differ, in words.
	Legend string
	// Table is the chart's data: a header row and one row per point.
	Head []string
	Rows [][]string
	// Empty says there was nothing to draw.
	Empty bool
}

type series struct {
	Name, Color, Dash string
	Points            string // polyline points "x,y x,y"
	Dots              []point
}

type point struct{ X, Y int }

type bar struct {
	Label, Value   string
	X, Y, W, H     int
	LabelX, LabelY int
	ValueX         int
	Color          string
}

type tick struct {
	X, Y int
	Text string
	// Anchor is the SVG text-anchor.
	Anchor string
}

// Chart geometry, in SVG user units: the viewBox scales to the width of
// the page, so a phone shows the same chart smaller.
const (
	chartWidth  = 640
	chartHeight = 260
	padLeft     = 56
	padRight    = 16
	padTop      = 16
	padBottom   = 40
	barHeight   = 28
	barGap      = 12
	barLabelW   = 120
)

// Colours meet 3:1 against white (WCAG 1.4.11), and the p90 line is also
// dashed, so the two lines differ without colour.
const (
	colourMedian = "#0969da"
	colourP90    = "#bc4c00"
	colourBar    = "#1a7f37"
)

// spreadChart draws the median and p90 of one measure per day.
func spreadChart(id, title, measure string, days []string, by map[string]audit.Stats, pick func(audit.Stats) audit.Spread) chart {
	c := chart{ID: id, Title: title, Width: chartWidth, Height: chartHeight, X1: padLeft, X2: chartWidth - padRight,
		Legend: "Solid blue line: median. Dashed orange line: 90th percentile.",
		Head:   []string{"Day", "Requests measured", "Median", "90th percentile"}}
	type day struct {
		name string
		s    audit.Spread
	}
	var measured []day
	for _, d := range days {
		if s := pick(by[d]); s.Count > 0 {
			measured = append(measured, day{d, s})
			c.Rows = append(c.Rows, []string{d, strconv.Itoa(s.Count), seconds(s.MedianSeconds), seconds(s.P90Seconds)})
		}
	}
	if len(measured) == 0 {
		c.Empty = true
		c.Summary = "No " + measure + " was measured in this period."
		return c
	}
	top := 0.0
	for _, d := range measured {
		top = math.Max(top, d.s.P90Seconds)
	}
	unit, scale := timeUnit(top)
	top = niceCeil(top / scale)
	plotW, plotH := chartWidth-padLeft-padRight, chartHeight-padTop-padBottom
	x := func(i int) int {
		if len(measured) == 1 {
			return padLeft + plotW/2
		}
		return padLeft + i*plotW/(len(measured)-1)
	}
	y := func(v float64) int { return padTop + plotH - int(math.Round(v/scale/top*float64(plotH))) }
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		gy := padTop + plotH - i*plotH/4
		c.Grid = append(c.Grid, gy)
		c.YLabels = append(c.YLabels, tick{X: padLeft - 6, Y: gy + 4, Text: trimFloat(v) + unit, Anchor: "end"})
	}
	median := series{Name: "median", Color: colourMedian}
	p90 := series{Name: "90th percentile", Color: colourP90, Dash: "6 4"}
	var mp, pp []string
	for i, d := range measured {
		px := x(i)
		median.Dots = append(median.Dots, point{px, y(d.s.MedianSeconds)})
		p90.Dots = append(p90.Dots, point{px, y(d.s.P90Seconds)})
		mp = append(mp, fmt.Sprintf("%d,%d", px, y(d.s.MedianSeconds)))
		pp = append(pp, fmt.Sprintf("%d,%d", px, y(d.s.P90Seconds)))
	}
	median.Points, p90.Points = strings.Join(mp, " "), strings.Join(pp, " ")
	c.Lines = []series{p90, median}
	// At most six day labels, first and last always.
	step := max(1, (len(measured)+5)/6)
	for i := 0; i < len(measured); i += step {
		c.XLabels = append(c.XLabels, tick{X: x(i), Y: chartHeight - padBottom + 18, Text: measured[i].name[5:], Anchor: "middle"})
	}
	if last := len(measured) - 1; last%step != 0 {
		c.XLabels = append(c.XLabels, tick{X: x(last), Y: chartHeight - padBottom + 18, Text: measured[last].name[5:], Anchor: "middle"})
	}
	first, last := measured[0], measured[len(measured)-1]
	c.Summary = fmt.Sprintf("%s by day over %d day(s) with data: median %s and 90th percentile %s on %s; median %s and 90th percentile %s on %s.",
		strings.ToUpper(measure[:1])+measure[1:], len(measured), seconds(first.s.MedianSeconds), seconds(first.s.P90Seconds), first.name,
		seconds(last.s.MedianSeconds), seconds(last.s.P90Seconds), last.name)
	return c
}

// barChart draws counts as horizontal bars, largest first; labels names
// the bars (keys as they are when nil).
func barChart(id, title, what string, counts map[string]int, order []string) chart {
	c := chart{ID: id, Title: title, Width: chartWidth, Head: []string{strings.ToUpper(what[:1]) + what[1:], "Requests"}}
	type kv struct {
		k string
		v int
	}
	var items []kv
	total := 0
	for k, v := range counts {
		if v > 0 {
			items = append(items, kv{k, v})
			total += v
		}
	}
	if order != nil {
		rank := map[string]int{}
		for i, k := range order {
			rank[k] = i + 1
		}
		sort.Slice(items, func(i, j int) bool {
			ri, rj := rank[items[i].k], rank[items[j].k]
			if ri == 0 || rj == 0 || ri == rj {
				return items[i].k < items[j].k
			}
			return ri < rj
		})
	} else {
		sort.Slice(items, func(i, j int) bool {
			if items[i].v != items[j].v {
				return items[i].v > items[j].v
			}
			return items[i].k < items[j].k
		})
	}
	if len(items) == 0 {
		c.Empty, c.Height = true, 0
		c.Summary = "No requests in this period."
		return c
	}
	top := 0
	for _, it := range items {
		top = max(top, it.v)
	}
	plotW := chartWidth - barLabelW - padRight - 48
	var parts []string
	for i, it := range items {
		by := padTop + i*(barHeight+barGap)
		w := max(2, int(math.Round(float64(it.v)/float64(top)*float64(plotW))))
		c.Bars = append(c.Bars, bar{Label: it.k, Value: strconv.Itoa(it.v), X: barLabelW, Y: by, W: w, H: barHeight,
			LabelX: barLabelW - 8, LabelY: by + barHeight/2 + 5, ValueX: barLabelW + w + 6, Color: colourBar})
		c.Rows = append(c.Rows, []string{it.k, strconv.Itoa(it.v)})
		parts = append(parts, fmt.Sprintf("%s %d", it.k, it.v))
	}
	c.Height = padTop + len(items)*(barHeight+barGap) + padTop
	c.Summary = fmt.Sprintf("%d request(s) by %s: %s.", total, what, strings.Join(parts, ", "))
	return c
}

// requestersChart draws distinct requesters per day as bars over days.
func requestersChart(days []string, by map[string]audit.Stats) chart {
	c := chart{ID: "requesters", Title: "People who asked, by day", Width: chartWidth, Height: chartHeight, X1: padLeft, X2: chartWidth - padRight,
		Head: []string{"Day", "Requesters", "New", "Requests"}}
	if len(days) == 0 {
		c.Empty = true
		c.Summary = "Nobody asked in this period."
		return c
	}
	top := 0
	for _, d := range days {
		top = max(top, by[d].Adoption.Requesters)
	}
	// Counts: four grid steps of whole numbers.
	ceil := math.Ceil(niceCeil(float64(top))/4) * 4
	plotW, plotH := chartWidth-padLeft-padRight, chartHeight-padTop-padBottom
	slot := plotW / len(days)
	w := min(48, max(2, slot*2/3))
	for i := 0; i <= 4; i++ {
		gy := padTop + plotH - i*plotH/4
		c.Grid = append(c.Grid, gy)
		c.YLabels = append(c.YLabels, tick{X: padLeft - 6, Y: gy + 4, Text: trimFloat(ceil * float64(i) / 4), Anchor: "end"})
	}
	step := max(1, (len(days)+5)/6)
	most, mostDay := 0, ""
	for i, d := range days {
		a := by[d].Adoption
		h := int(math.Round(float64(a.Requesters) / ceil * float64(plotH)))
		bx := padLeft + i*slot + (slot-w)/2
		c.Bars = append(c.Bars, bar{Label: d, Value: strconv.Itoa(a.Requesters), X: bx, Y: padTop + plotH - h, W: w, H: h, Color: colourBar})
		c.Rows = append(c.Rows, []string{d, strconv.Itoa(a.Requesters), strconv.Itoa(a.NewRequesters), strconv.Itoa(by[d].Requests)})
		if i%step == 0 || i == len(days)-1 {
			c.XLabels = append(c.XLabels, tick{X: bx + w/2, Y: chartHeight - padBottom + 18, Text: d[5:], Anchor: "middle"})
		}
		if a.Requesters > most {
			most, mostDay = a.Requesters, d
		}
	}
	c.Summary = fmt.Sprintf("Distinct requesters on each of %d day(s) with requests; the most, %d, on %s.", len(days), most, mostDay)
	return c
}

// timeUnit picks the unit the axis of a time chart reads in.
func timeUnit(maxSeconds float64) (string, float64) {
	switch {
	case maxSeconds >= 2*3600:
		return "h", 3600
	case maxSeconds >= 120:
		return "m", 60
	}
	return "s", 1
}

// niceCeil rounds v up to 1, 2, 2.5 or 5 times a power of ten (at least 1).
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }

// seconds is a measured duration written as requesters write theirs
// ("45s", "4m12s", "2h5m"), to the second.
func seconds(s float64) string {
	return access.FormatDuration(time.Duration(math.Round(s)) * time.Second)
}
