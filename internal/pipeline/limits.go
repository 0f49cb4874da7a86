package pipeline

// MinStages is the least number of stages a pipeline has: a source stage and
// at least one more ("A pipeline must contain at least two stages",
// reference/codepipeline.md §2.3). It is a structure rule, not a limit, so
// it cannot be configured.
const MinStages = 2

// Limits are the structure limits [Validate] enforces. The server
// configuration may raise them. A zero or negative field means the default
// from [DefaultLimits].
type Limits struct {
	// MaxStages is the most stages a pipeline may have. Default 10 (the
	// 2016 user guide, reference/codepipeline.md §8.1; AWS allows 50 today).
	MaxStages int
	// MaxActionsPerStage is the most actions a stage may have. Default 20
	// (guide §8.1; AWS allows 50 today).
	MaxActionsPerStage int
	// MaxParallelActions is the most actions that may share one runOrder in
	// a stage. Default 5 (guide §8.1; AWS allows 50 today).
	MaxParallelActions int
	// MaxSequentialActions is the most distinct runOrder values (groups run
	// one after the other) a stage may have. Default 5 (guide §8.1; AWS
	// allows 50 today).
	MaxSequentialActions int
	// MaxTriggers is the most triggers a pipeline may declare. Default 50,
	// the model's bound on PipelineDeclaration.triggers.
	MaxTriggers int
	// Region is the server's own region, where pipelines run. When set,
	// artifactStores must contain an entry for it, and an action whose
	// region differs from it needs artifactStores. Empty skips both checks.
	Region string
}

// DefaultLimits returns the limits of the user guide the seed is based on.
func DefaultLimits() Limits {
	return Limits{
		MaxStages:            10,
		MaxActionsPerStage:   20,
		MaxParallelActions:   5,
		MaxSequentialActions: 5,
		MaxTriggers:          50,
	}
}

// withDefaults replaces unset fields by their defaults.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	orDefault(&l.MaxStages, d.MaxStages)
	orDefault(&l.MaxActionsPerStage, d.MaxActionsPerStage)
	orDefault(&l.MaxParallelActions, d.MaxParallelActions)
	orDefault(&l.MaxSequentialActions, d.MaxSequentialActions)
	orDefault(&l.MaxTriggers, d.MaxTriggers)
	return l
}

func orDefault(v *int, def int) {
	if *v <= 0 {
		*v = def
	}
}
