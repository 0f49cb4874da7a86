package buildspec

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// maxReportSize bounds one report file.
const maxReportSize = 64 << 20

// ReportStatus is a report's status, as CodeBuild's ReportStatusType.
type ReportStatus string

// Report statuses. A report is INCOMPLETE when no file could be read.
const (
	ReportSucceeded  ReportStatus = "SUCCEEDED"
	ReportFailed     ReportStatus = "FAILED"
	ReportIncomplete ReportStatus = "INCOMPLETE"
)

// TestCounts are the test case counts of a report.
type TestCounts struct {
	// Total is Passed + Failed + Skipped.
	Total, Passed, Failed, Skipped int
	// Errors is how many of Failed ended in a JUnit <error> rather than a
	// <failure>.
	Errors int
	// Duration is the sum of the test case durations.
	Duration time.Duration
}

// add adds o to c.
func (c *TestCounts) add(o TestCounts) {
	c.Total += o.Total
	c.Passed += o.Passed
	c.Failed += o.Failed
	c.Skipped += o.Skipped
	c.Errors += o.Errors
	c.Duration = addDuration(c.Duration, o.Duration)
}

// ReportResult is the outcome of one report group.
type ReportResult struct {
	// Name is the report group name or ARN.
	Name string
	// Format is the file format.
	Format ReportFormat
	// Status is SUCCEEDED, FAILED (a test failed) or INCOMPLETE.
	Status ReportStatus
	// Files are the report files read, relative to the source directory.
	Files []string
	// Counts sums the files that could be read.
	Counts TestCounts
	// Err describes the files that could not be found or read.
	Err string
}

// Line renders the counts for a summary: "12 total, 10 passed, 1 failed,
// 1 skipped in 2.5s".
func (r ReportResult) Line() string {
	c := r.Counts
	s := fmt.Sprintf("%d total, %d passed, %d failed, %d skipped in %s", c.Total, c.Passed, c.Failed, c.Skipped, c.Duration.Round(time.Millisecond))
	if r.Err != "" {
		s += " (" + r.Err + ")"
	}
	return s
}

// collectReports reads every report group.
func collectReports(srcDir string, groups []*ReportGroup) []ReportResult {
	out := make([]ReportResult, 0, len(groups))
	for _, g := range groups {
		out = append(out, collectReport(srcDir, g))
	}
	return out
}

// collectReport finds and parses one group's files.
func collectReport(srcDir string, g *ReportGroup) ReportResult {
	rr := ReportResult{Name: g.Name, Format: g.Format, Status: ReportIncomplete}
	bases, err := baseDirs(srcDir, g.BaseDirectory)
	if err != nil {
		rr.Err = err.Error()
		return rr
	}
	var problems []string
	for _, base := range bases {
		files, err := walkFiles(filepath.Join(srcDir, filepath.FromSlash(base)))
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		chosen, _ := selectFiles(files, g.Files, nil)
		for _, f := range chosen {
			rel := path.Join(base, f.rel)
			c, err := parseReportFile(filepath.Join(srcDir, filepath.FromSlash(rel)), g.Format)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", rel, err))
				continue
			}
			rr.Files = append(rr.Files, rel)
			rr.Counts.add(c)
		}
	}
	return finishReport(rr, problems)
}

// finishReport sets the status and the error text.
func finishReport(rr ReportResult, problems []string) ReportResult {
	switch {
	case len(rr.Files) == 0 && len(problems) == 0:
		rr.Err = "no report files found"
	case len(problems) > 3:
		rr.Err = strings.Join(problems[:3], "; ") + fmt.Sprintf("; and %d more", len(problems)-3)
	default:
		rr.Err = strings.Join(problems, "; ")
	}
	switch {
	case len(rr.Files) == 0:
		rr.Status = ReportIncomplete
	case rr.Counts.Failed > 0:
		rr.Status = ReportFailed
	default:
		rr.Status = ReportSucceeded
	}
	return rr
}

// parseReportFile parses one report file.
func parseReportFile(name string, format ReportFormat) (TestCounts, error) {
	f, err := os.Open(name)
	if err != nil {
		return TestCounts{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return TestCounts{}, err
	}
	if st.Size() > maxReportSize {
		return TestCounts{}, fmt.Errorf("the file is %d bytes; report files may be at most %d bytes", st.Size(), maxReportSize)
	}
	r := io.LimitReader(f, maxReportSize)
	if format == FormatCucumberJSON {
		return ParseCucumberJSON(r)
	}
	return ParseJUnitXML(r)
}

// junitState tracks the parse of one JUnit document.
type junitState struct {
	counts      TestCounts
	root        string
	depth       int
	inCase      bool
	caseDepth   int
	caseStatus  string
	caseTime    time.Duration
	sawCaseTime bool
	suiteTime   time.Duration
}

// ParseJUnitXML counts the test cases of a JUnit XML report: a <testsuites>
// or <testsuite> root, suites nested to any depth, and <testcase> elements
// whose <failure>, <error> or <skipped> child gives their outcome.
func ParseJUnitXML(r io.Reader) (TestCounts, error) {
	dec := xml.NewDecoder(r)
	dec.CharsetReader = charsetReader
	st := &junitState{}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return TestCounts{}, fmt.Errorf("invalid JUnit XML: %w", err)
		}
		if err := st.token(tok); err != nil {
			return TestCounts{}, err
		}
	}
	if st.root == "" {
		return TestCounts{}, errors.New("invalid JUnit XML: the file has no XML element")
	}
	if !st.sawCaseTime {
		st.counts.Duration = st.suiteTime
	}
	return st.counts, nil
}

// token handles one XML token.
func (st *junitState) token(tok xml.Token) error {
	switch t := tok.(type) {
	case xml.StartElement:
		st.depth++
		return st.start(t)
	case xml.EndElement:
		if st.inCase && st.depth == st.caseDepth {
			st.endCase()
		}
		st.depth--
	}
	return nil
}

// start handles a start element.
func (st *junitState) start(t xml.StartElement) error {
	name := t.Name.Local
	if st.root == "" {
		if name != "testsuites" && name != "testsuite" {
			return fmt.Errorf("not a JUnit XML report: the root element is <%s>, not <testsuites> or <testsuite>", name)
		}
		st.root = name
	}
	switch {
	case st.inCase && st.depth == st.caseDepth+1:
		st.caseChild(name)
	case !st.inCase && name == "testcase":
		st.inCase, st.caseDepth, st.caseStatus = true, st.depth, "passed"
		st.caseTime = 0
		if d, ok := attrSeconds(t, "time"); ok {
			st.caseTime, st.sawCaseTime = d, true
		}
	case name == "testsuite" && (st.depth == 1 || st.depth == 2 && st.root == "testsuites"):
		if d, ok := attrSeconds(t, "time"); ok {
			st.suiteTime = addDuration(st.suiteTime, d)
		}
	}
	return nil
}

// caseChild applies a child element of a test case; failures win over
// skips.
func (st *junitState) caseChild(name string) {
	switch name {
	case "failure":
		if st.caseStatus != "error" {
			st.caseStatus = "failure"
		}
	case "error":
		st.caseStatus = "error"
	case "skipped":
		if st.caseStatus == "passed" {
			st.caseStatus = "skipped"
		}
	}
}

// endCase counts the finished test case.
func (st *junitState) endCase() {
	c := &st.counts
	c.Total++
	switch st.caseStatus {
	case "failure":
		c.Failed++
	case "error":
		c.Failed++
		c.Errors++
	case "skipped":
		c.Skipped++
	default:
		c.Passed++
	}
	c.Duration = addDuration(c.Duration, st.caseTime)
	st.inCase = false
}

// attrSeconds reads a duration attribute in seconds. Locale-formatted
// values occur: "1,234.5" (thousands separator) and "0,25" (decimal comma).
func attrSeconds(t xml.StartElement, name string) (time.Duration, bool) {
	for _, a := range t.Attr {
		if a.Name.Local != name {
			continue
		}
		v := strings.TrimSpace(a.Value)
		if strings.Contains(v, ".") {
			v = strings.ReplaceAll(v, ",", "")
		} else {
			v = strings.ReplaceAll(v, ",", ".")
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, false
		}
		return secondsToDuration(f), true
	}
	return 0, false
}

// secondsToDuration converts seconds, saturating.
func secondsToDuration(f float64) time.Duration {
	if f*float64(time.Second) >= math.MaxInt64 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(f * float64(time.Second))
}

// addDuration adds without overflowing.
func addDuration(a, b time.Duration) time.Duration {
	if b > 0 && a > math.MaxInt64-b {
		return time.Duration(math.MaxInt64)
	}
	return a + b
}

// charsetReader accepts the encodings JUnit producers use besides UTF-8.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "latin1", "latin-1", "iso8859-1":
		data, err := io.ReadAll(in)
		if err != nil {
			return nil, err
		}
		runes := make([]rune, len(data))
		for i, c := range data {
			runes[i] = rune(c)
		}
		return strings.NewReader(string(runes)), nil
	}
	return nil, fmt.Errorf("the report is encoded as %q; write it as UTF-8", label)
}

// cucumberFeature is the part of a Cucumber JSON feature that is counted.
type cucumberFeature struct {
	Elements []cucumberElement `json:"elements"`
}

// cucumberElement is a scenario or a background.
type cucumberElement struct {
	Type   string         `json:"type"`
	Steps  []cucumberStep `json:"steps"`
	Before []cucumberStep `json:"before"`
	After  []cucumberStep `json:"after"`
}

// cucumberStep is a step or a hook.
type cucumberStep struct {
	Result *struct {
		Status   string  `json:"status"`
		Duration float64 `json:"duration"`
	} `json:"result"`
}

// ParseCucumberJSON counts the scenarios of a Cucumber JSON report (an
// array of features). A scenario fails when one of its steps, hooks or its
// background fails, is skipped when a step is skipped, pending or
// undefined, and passes otherwise. Step durations are in nanoseconds.
func ParseCucumberJSON(r io.Reader) (TestCounts, error) {
	var features []cucumberFeature
	dec := json.NewDecoder(r)
	if err := dec.Decode(&features); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "" {
			return TestCounts{}, errors.New("not a Cucumber JSON report: expected a JSON array of features")
		}
		return TestCounts{}, fmt.Errorf("invalid Cucumber JSON: %w", err)
	}
	var c TestCounts
	for _, f := range features {
		countFeature(&c, f)
	}
	return c, nil
}

// countFeature counts the scenarios of one feature. A background element
// applies to the scenario that follows it.
func countFeature(c *TestCounts, f cucumberFeature) {
	bgStatus, bgDur := "passed", time.Duration(0)
	for _, el := range f.Elements {
		status, dur := elementStatus(el)
		if el.Type == "background" {
			bgStatus, bgDur = status, dur
			continue
		}
		switch {
		case bgStatus == "failed" || status == "failed":
			status = "failed"
		case bgStatus == "skipped" || status == "skipped":
			status = "skipped"
		}
		c.Total++
		switch status {
		case "failed":
			c.Failed++
		case "skipped":
			c.Skipped++
		default:
			c.Passed++
		}
		c.Duration = addDuration(c.Duration, addDuration(dur, bgDur))
		bgStatus, bgDur = "passed", 0
	}
}

// elementStatus folds the results of an element's hooks and steps.
func elementStatus(el cucumberElement) (string, time.Duration) {
	status, dur := "passed", time.Duration(0)
	for _, group := range [][]cucumberStep{el.Before, el.Steps, el.After} {
		for _, s := range group {
			st := "skipped"
			if s.Result != nil {
				st = strings.ToLower(s.Result.Status)
				if d := s.Result.Duration; d > 0 && !math.IsInf(d, 0) && !math.IsNaN(d) {
					dur = addDuration(dur, nanosToDuration(d))
				}
			}
			switch st {
			case "failed", "ambiguous":
				status = "failed"
			case "skipped", "pending", "undefined", "unknown":
				if status == "passed" {
					status = "skipped"
				}
			}
		}
	}
	return status, dur
}

// nanosToDuration converts nanoseconds, saturating.
func nanosToDuration(f float64) time.Duration {
	if f >= math.MaxInt64 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(f)
}
