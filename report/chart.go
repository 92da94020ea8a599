package report

import (
	"fmt"
	"html"
	"math"
	"slices"
	"strings"
)

// ChartOptions tune the charts of a result.
type ChartOptions struct {
	// Label names a code for people; nil shows the code id with spaces.
	Label func(code string) string
	// MaxBars is the most bars one chart shows (default 60); the rest are
	// left to the table and the CSV, and the chart says so.
	MaxBars int
	// IDPrefix makes the ids inside the SVG unique on a page with several
	// charts (default "chart").
	IDPrefix string
}

// Chart is one bar chart as an SVG document fragment, ready to inline in
// HTML: every text in it is escaped.
type Chart struct {
	Title string
	SVG   string
}

// Chart geometry, in SVG user units (pixels at 100%).
const (
	chartWidth  = 760
	chartLabelW = 230
	chartValueW = 70
	chartRowH   = 24
	chartBarH   = 14
	chartTop    = 34
	chartAxisH  = 40
)

// Colours with at least 4.5:1 contrast on white: text, the bars, the
// quartile lines, and the muted text of suppressed rows.
const (
	colourText   = "#1b1b1b"
	colourBar    = "#2d6ca2"
	colourSpread = "#102a43"
	colourMuted  = "#555555"
	colourGrid   = "#d0d0d0"
)

// Charts returns bar charts of the rate per hour of recording by group:
// one chart for each code when the result is grouped by code, else one
// for all its codes together. Each bar is a row of the result; a line over
// it spans the sessions' quartiles and a tick marks their median.
// Suppressed rows are named and say "suppressed", with no bar.
func (r *Result) Charts(opt ChartOptions) []Chart {
	if opt.Label == nil {
		opt.Label = func(c string) string { return strings.ReplaceAll(c, "_", " ") }
	}
	if opt.MaxBars <= 0 {
		opt.MaxBars = 60
	}
	if opt.IDPrefix == "" {
		opt.IDPrefix = "chart"
	}
	codeAt := slices.Index(r.Query.By, Code)
	var dims []string
	for _, d := range r.Query.By {
		if d != Code {
			dims = append(dims, strings.ReplaceAll(string(d), "_", " "))
		}
	}
	by := ""
	if len(dims) > 0 {
		by = " by " + strings.Join(dims, " and ")
	}
	var charts []Chart
	if codeAt >= 0 && len(dims) == 0 {
		// Only by code: one chart, a bar per code.
		title := "Tags per hour of recording, by code"
		label := func(row Row) string { return opt.Label(row.Key[codeAt]) }
		return append(charts, Chart{Title: title, SVG: r.chart(title, r.Rows, label, opt, opt.IDPrefix+"-0")})
	}
	label := func(row Row) string { return rowLabel(r.Query.By, row, codeAt) }
	if codeAt < 0 {
		what := "all codes"
		if len(r.Codes) > 0 && len(r.Codes) <= 3 {
			names := make([]string, len(r.Codes))
			for i, c := range r.Codes {
				names[i] = opt.Label(c)
			}
			what = strings.Join(names, ", ")
		} else if len(r.Codes) > 3 {
			what = fmt.Sprintf("%d codes together", len(r.Codes))
		}
		title := "Tags per hour of recording: " + what + by
		return append(charts, Chart{Title: title, SVG: r.chart(title, r.Rows, label, opt, opt.IDPrefix+"-0")})
	}
	for i, code := range r.Codes {
		var rows []Row
		for _, row := range r.Rows {
			if row.Key[codeAt] == code {
				rows = append(rows, row)
			}
		}
		title := "Tags per hour of recording: " + opt.Label(code) + by
		charts = append(charts, Chart{Title: title, SVG: r.chart(title, rows, label, opt, fmt.Sprintf("%s-%d", opt.IDPrefix, i))})
	}
	return charts
}

func (r *Result) chart(title string, rows []Row, rowName func(Row) string, opt ChartOptions, id string) string {
	shown := rows
	if len(shown) > opt.MaxBars {
		shown = shown[:opt.MaxBars]
	}
	top := 0.0
	for _, row := range shown {
		if !row.Suppressed {
			top = max(top, row.Rate, row.Q3)
		}
	}
	step, axisMax := niceAxis(top)
	plotW := float64(chartWidth - chartLabelW - chartValueW)
	x := func(v float64) float64 { return chartLabelW + plotW*v/axisMax }
	height := chartTop + len(shown)*chartRowH + chartAxisH
	if len(shown) < len(rows) {
		height += chartRowH
	}

	var b strings.Builder
	e := html.EscapeString
	desc := fmt.Sprintf("Horizontal bar chart of %d group(s). Each bar is the number of tags per hour of recording in the group; "+
		"a dark line over the bar spans the middle half of the sessions' own rates (first to third quartile) and a tick marks their median.", len(rows))
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="%[1]s-title %[1]s-desc" viewBox="0 0 %[2]d %[3]d" width="%[2]d" height="%[3]d" font-family="system-ui, sans-serif" font-size="13">`,
		id, chartWidth, height)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, e(title), id, e(desc))
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`)
	fmt.Fprintf(&b, `<text x="0" y="18" font-size="15" font-weight="600" fill="%s">%s</text>`, colourText, e(title))

	// Grid lines and the axis.
	axisY := chartTop + len(shown)*chartRowH
	for v := 0.0; v <= axisMax+step/2; v += step {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="1"/>`, x(v), chartTop-4, x(v), axisY, colourGrid)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="%s">%s</text>`, x(v), axisY+16, colourText, e(trimFloat(v)))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="%s">tags per hour of recording</text>`,
		chartLabelW+plotW/2, axisY+34, colourText)

	for i, row := range shown {
		y := chartTop + i*chartRowH
		label := rowName(row)
		short := label
		if len([]rune(short)) > 32 {
			short = string([]rune(short)[:31]) + "…"
		}
		mid := y + chartRowH/2
		fmt.Fprintf(&b, `<g><text x="%d" y="%d" text-anchor="end" dominant-baseline="middle" fill="%s">%s</text>`,
			chartLabelW-8, mid, colourText, e(short))
		if row.Suppressed {
			fmt.Fprintf(&b, `<text x="%d" y="%d" dominant-baseline="middle" font-style="italic" fill="%s">suppressed (fewer than %d sessions)</text>`,
				chartLabelW+6, mid, colourMuted, r.Query.MinCell)
			fmt.Fprintf(&b, `<title>%s: suppressed</title></g>`, e(label))
			continue
		}
		barY := mid - chartBarH/2
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`, chartLabelW, barY, x(row.Rate)-chartLabelW, chartBarH, colourBar)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="2"/>`, x(row.Q1), mid, x(row.Q3), mid, colourSpread)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="2"/>`, x(row.Median), barY-2, x(row.Median), barY+chartBarH+2, colourSpread)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" dominant-baseline="middle" fill="%s">%s</text>`,
			max(x(row.Rate), x(row.Q3))+6, mid, colourText, e(trimFloat(math.Round(row.Rate*100)/100)))
		fmt.Fprintf(&b, `<title>%s: %s tags per hour (%d tags in %s hours, %d sessions; median %s, quartiles %s to %s)</title></g>`,
			e(label), trimFloat(math.Round(row.Rate*100)/100), row.Tags, trimFloat(math.Round(row.Hours*10)/10), row.Sessions,
			trimFloat(math.Round(row.Median*100)/100), trimFloat(math.Round(row.Q1*100)/100), trimFloat(math.Round(row.Q3*100)/100))
	}
	if len(shown) < len(rows) {
		fmt.Fprintf(&b, `<text x="0" y="%d" fill="%s">%d more group(s) not drawn: see the table or the CSV.</text>`,
			axisY+chartAxisH+chartRowH/2, colourText, len(rows)-len(shown))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// rowLabel names a row by its dimensions other than code.
func rowLabel(by []Dimension, row Row, codeAt int) string {
	var parts []string
	for i := range by {
		if i == codeAt {
			continue
		}
		v := row.Key[i]
		if v == "" {
			v = "(unknown)"
		}
		parts = append(parts, v)
	}
	if len(parts) == 0 {
		return "all sessions"
	}
	return strings.Join(parts, " · ")
}

// niceAxis returns a round tick step and the axis maximum for values up
// to top: steps of 1, 2 or 5 times a power of ten, about five ticks.
func niceAxis(top float64) (step, axisMax float64) {
	if top <= 0 || math.IsNaN(top) || math.IsInf(top, 0) {
		return 1, 1
	}
	raw := top / 5
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	switch f := raw / pow; {
	case f <= 1:
		step = pow
	case f <= 2:
		step = 2 * pow
	case f <= 5:
		step = 5 * pow
	default:
		step = 10 * pow
	}
	return step, math.Ceil(top/step) * step
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.6f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		s = "0"
	}
	return s
}
