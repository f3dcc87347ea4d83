// Package status checks, step by step, whether the operator's metrics
// endpoint is secured and scrapeable. It produces a Report; rendering it as
// a table or JSON is the command's job.
package status

// Outcome of one check.
type Outcome string

const (
	Pass Outcome = "pass"
	Warn Outcome = "warn"
	Fail Outcome = "fail"
	Skip Outcome = "skip"
)

// Check is one line of the report.
type Check struct {
	// ID names the check for good (see allCategories).
	ID       CheckID  `json:"id"`
	Category Category `json:"category"`
	Name     string   `json:"name"`
	Outcome  Outcome  `json:"outcome"`
	// Message says what was found.
	Message string `json:"message,omitempty"`
	// Hint says what to run to fix it.
	Hint string `json:"hint,omitempty"`
	// Details are the facts behind the message, for -o json.
	Details map[string]any `json:"details,omitempty"`
}

// Report is the result of all checks, in order.
type Report struct {
	Operator string `json:"operator,omitempty"`
	Mode     string `json:"mode,omitempty"`
	// Version is the operator's ECK version, for the summary of status
	// --contexts (the JSON of one report carries it in operator.version).
	Version string  `json:"-"`
	Checks  []Check `json:"checks"`
	Summary Summary `json:"summary"`
}

// Summary counts the outcomes.
type Summary struct {
	Pass int `json:"pass"`
	Warn int `json:"warn"`
	Fail int `json:"fail"`
	Skip int `json:"skip"`
	// OK is true when nothing failed (warnings allowed).
	OK bool `json:"ok"`
}

func (r *Report) add(c Check) {
	r.Checks = append(r.Checks, c)
	switch c.Outcome {
	case Pass:
		r.Summary.Pass++
	case Warn:
		r.Summary.Warn++
	case Fail:
		r.Summary.Fail++
	case Skip:
		r.Summary.Skip++
	}
	r.Summary.OK = r.Summary.Fail == 0
}
